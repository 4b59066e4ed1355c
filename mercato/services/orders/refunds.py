"""The back office's refunds (`/admin/v1`): all or part of an order's payment, or what returned units
paid (refund_lines.py), through payments."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import Conflict, ServiceUnavailable, UnprocessableEntity
from mercato.platform.idempotency import idempotent
from mercato.platform.staff import Staff
from mercato.platform.tables import idempotency_keys
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Payment
from mercato.services.orders.deps import Actor, Deps, now
from mercato.services.orders.domain import TRANSITIONS, OrderState
from mercato.services.orders.invoicing.issue import credit_refund
from mercato.services.orders.lookups import any_order, staff_view_in
from mercato.services.orders.models import Order
from mercato.services.orders.operations import record_transition
from mercato.services.orders.refund_lines import Returned, count_refunded, returned
from mercato.services.orders.schemas import StaffOrderOut, StaffRefundIn

NOT_SHIPPED = frozenset({OrderState.PLACED, OrderState.CONFIRMED, OrderState.PROCESSING})


def _refund_key(idempotency_key: str) -> str:
    """The refund's key at payments (and, through it, at the provider): derived from the client's
    Idempotency-Key, so a retry of the request can never become a second refund."""
    return "staff:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


async def staff_refund(
    deps: Deps, staff: Staff, order_id: str, idempotency_key: str, body: StaffRefundIn
) -> Response:
    """Refund all or part of an order's payment (an amount, or what some units paid) through payments
    (which records the refund, who asked for it, and its PaymentRefunded event). An order refunded in
    full becomes `refunded` where the state machine allows it (from cancelled or returned); elsewhere its
    state stays and the refund is on its payment. Before shipping, refunding everything is a
    cancellation: 409, cancel instead. A request answered before is answered again, nothing recomputed
    (units refunded since would change a refund by line's amount)."""
    order = await any_order(deps, order_id)
    scope = f"staff-refund:{order.id}"
    units: Returned | None = None
    payment: Payment | None = None
    if not await _answered(deps, scope, idempotency_key):
        units = await _check(deps, order, body)
        payment = await _refund_at_payments(deps, staff, order.id, idempotency_key, body, units)
    by = Actor("staff", staff)
    async with deps.db.unit_of_work() as session:
        return await idempotent(
            session,
            scope=scope,
            key=idempotency_key,
            request=body,
            status_code=200,
            required=True,
            run=lambda: _settle_refund(session, order.id, payment, units, by=by, reason=body.reason),
        )


async def _answered(deps: Deps, scope: str, key: str) -> bool:
    async with deps.db.read() as session:
        found = await session.execute(
            select(idempotency_keys.c.key).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        )
        return found.first() is not None


async def _check(deps: Deps, order: Order, body: StaffRefundIn) -> Returned | None:
    """What a refund by line pays back (None: a refund by amount, or of everything); 409/422 for a
    refund that makes no sense, before any money moves."""
    if order.state in (OrderState.PENDING_PAYMENT, OrderState.FAILED):
        raise Conflict(
            "This order has no captured payment to refund.", slug="nothing-to-refund", state=order.state
        )
    if body.amount is not None and body.lines is not None:
        raise UnprocessableEntity(
            "Refund an amount or some lines, not both.", errors={"lines": "cannot be sent with amount"}
        )
    if body.amount is not None and body.amount.currency != order.currency:
        raise UnprocessableEntity(
            f"The order was paid in {order.currency}.",
            errors={"amount.currency": f"must be {order.currency}"},
        )
    if body.lines is not None:
        async with deps.db.read() as session:
            return returned(order, await repo.lines_of(session, order.id), body.lines)
    if body.amount is None and order.state in NOT_SHIPPED:
        raise Conflict(
            "To refund everything before shipping, cancel the order: that refunds in full and restocks.",
            slug="cancel-instead",
            state=order.state,
        )
    return None


async def _refund_at_payments(
    deps: Deps, staff: Staff, order_id: str, idempotency_key: str, body: StaffRefundIn, units: Returned | None
) -> Payment:
    amount = units.amount if units else body.amount.amount if body.amount else None
    try:
        return await deps.payments.refund(
            order_id,
            refund_key=_refund_key(idempotency_key),
            reason=body.reason,
            amount=amount,
            staff=staff,
        )
    except RemoteProblem as problem:
        if problem.status == 404:
            raise Conflict("This order has no payment to refund.", slug="nothing-to-refund") from None
        raise
    except ServiceUnavailable:
        raise ServiceUnavailable(
            "The payment provider did not confirm the refund. Retry with the same Idempotency-Key: "
            "a refund that did go through is then recorded, and none is made twice."
        ) from None


async def _settle_refund(
    session: AsyncSession,
    order_id: str,
    payment: Payment | None,
    units: Returned | None,
    *,
    by: Actor,
    reason: str,
) -> StaffOrderOut:
    """Take payments' word for what is refunded; refunded in full, the order becomes `refunded` if its
    state allows (that change's event tells the customer nothing: the refund has its own e-mail). What
    the refund adds gets its credit note in this transaction (naming the units a refund by line pays
    back), and the units are counted refunded on their lines."""
    assert payment is not None  # None only for a request answered before, which is replayed, never run
    if units is not None:
        await count_refunded(session, order_id, units.units)
        reason = f"{reason}: {units.description}"[:200]
    await credit_refund(session, order_id, refunded_to=payment.refunded.amount, reason=reason, at=now())
    order = await repo.order(session, order_id, fresh=True)
    assert order is not None
    refunded, status = payment.refunded.amount, payment.status
    moved = False
    in_full = refunded >= payment.captured.amount
    if in_full and OrderState.REFUNDED in TRANSITIONS[OrderState(order.state)]:
        moved = await record_transition(
            session,
            order,
            OrderState.REFUNDED,
            f"refunded in full: {reason}"[:200],
            by=by,
            refunded=refunded,
            payment_status=status,
        )
    if not moved:
        await repo.set_payment(session, order_id, refunded=refunded, payment_status=status, now=now())
    return await staff_view_in(session, order_id)
