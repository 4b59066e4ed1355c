"""The reconciler: finishes or undoes checkouts a crash or an outage interrupted, and retries the
refunds of cancelled orders that did not go through. Every service it asks is idempotent by order id."""

from __future__ import annotations

import logging
from datetime import timedelta

from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import Problem, ServiceUnavailable
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Payment
from mercato.services.orders.deps import SYSTEM, Deps, now
from mercato.services.orders.domain import OrderState
from mercato.services.orders.models import Order
from mercato.services.orders.operations import refund_cancelled
from mercato.services.orders.settlement import abandon, place

log = logging.getLogger("mercato.orders")


async def reconcile(deps: Deps) -> int:
    """Finish or undo checkouts that have been pending too long (the process died mid-way, or a
    service was down), and refunds of cancelled orders that did not go through. Returns how many."""
    cutoff = now() - timedelta(seconds=deps.settings.reconcile_after_seconds)
    async with deps.db.read() as session:
        pending = await repo.stuck_orders(session, [OrderState.PENDING_PAYMENT], updated_before=cutoff)
        cancelled = await repo.stuck_orders(session, [OrderState.CANCELLED], updated_before=cutoff)
    done = 0
    for order in pending:
        try:
            await _recover(deps, order)
            done += 1
        except (Problem, ServiceUnavailable) as error:
            log.warning("could not recover order yet", extra={"order_id": order.id, "error": str(error)})
    for order in cancelled:
        try:
            await refund_cancelled(deps, order)
            done += 1
        except (Problem, ServiceUnavailable) as error:
            log.warning(
                "could not refund cancelled order yet", extra={"order_id": order.id, "error": str(error)}
            )
    return done


async def _recover(deps: Deps, order: Order) -> None:
    try:
        payment: Payment | None = await deps.payments.resolve(order.id)
    except RemoteProblem as problem:
        if problem.status != 404:
            raise
        payment = None
    async with deps.db.read() as session:
        lines = await repo.lines_of(session, order.id)
    if payment and payment.status in ("captured", "partially_refunded"):
        try:  # idempotent by key: returns the reservation made before the crash
            await deps.catalog.reserve(
                key=order.id,
                lines={line.sku: line.quantity for line in lines},
                ttl_seconds=deps.settings.reservation_ttl_seconds,
                country=order.country,
            )
            await deps.catalog.commit(order.id)
        except RemoteProblem:
            await abandon(deps, order, "stock was gone when the interrupted checkout resumed", status=409)
            return
        await place(
            deps, order, lines, payment, reason="completed by the reconciler after an interruption", by=SYSTEM
        )
        log.info("recovered interrupted checkout", extra={"order_id": order.id})
        return
    await abandon(deps, order, "the checkout was interrupted before payment completed")
