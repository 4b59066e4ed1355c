"""An order's life after the sale: the shopper's cancel and return, the back office's transitions
(`/admin/v1`), and the refund that follows every cancellation."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import OrderStatusChanged
from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import Conflict, NotFound, Problem, ServiceUnavailable, UnprocessableEntity
from mercato.platform.outbox import record_event
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import CUSTOMER, SYSTEM, Actor, Deps, now
from mercato.services.orders.domain import OrderState, check_transition
from mercato.services.orders.history import load_view
from mercato.services.orders.invoicing.issue import credit_refund
from mercato.services.orders.lookups import any_order, staff_order
from mercato.services.orders.models import Order
from mercato.services.orders.schemas import OrderOut, StaffOrderOut, TransitionIn

log = logging.getLogger("mercato.orders")


async def record_transition(
    session: AsyncSession,
    order: Order,
    target: OrderState,
    reason: str,
    *,
    by: Actor,
    audit: str | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
    **values: Any,
) -> bool:
    """In the caller's unit of work: move the order from the state it was read in, and stage its
    OrderStatusChanged (and, for staff, the audit entry `audit`). False if the order moved meanwhile."""
    changed_at, from_state = (
        now(),
        order.state,
    )  # read first: the UPDATE refreshes an order this session holds
    if carrier or tracking_number:
        values |= {"carrier": carrier, "tracking_number": tracking_number}
    moved = await repo.move(
        session,
        order.id,
        expected=from_state,
        state=target,
        now=changed_at,
        reason=reason,
        actor=by.kind,
        staff_id=by.staff_id,
        **values,
    )
    if not moved:
        return False
    await record_event(
        session,
        OrderStatusChanged(
            order_id=order.id,
            customer_id=order.buyer_id,
            from_state=from_state,
            to_state=target,
            reason=reason,
            changed_at=changed_at,
            carrier=carrier,
            tracking_number=tracking_number,
        ),
        aggregate_type="order",
        aggregate_id=order.id,
    )
    if audit and by.staff:
        details = {"from": from_state, "to": str(target), "reason": reason}
        if carrier or tracking_number:
            details |= {"carrier": carrier, "tracking_number": tracking_number}
        await record_staff_action(
            session,
            by.staff,
            audit,
            service="orders",
            target_type="order",
            target_id=order.id,
            details=details,
        )
    return True


async def _transition(
    deps: Deps, order: Order, target: OrderState, reason: str, *, by: Actor, **kwargs: Any
) -> None:
    check_transition(order.state, target)
    async with deps.db.unit_of_work() as session:
        if "refunded" in kwargs:  # a refund is settled: its credit note, in the same transaction
            await credit_refund(session, order.id, refunded_to=kwargs["refunded"], reason=reason, at=now())
        moved = await record_transition(session, order, target, reason, by=by, **kwargs)
    if not moved:
        raise Conflict("The order changed meanwhile; reload it and try again.")
    order.state = target


# --- the shopper's -------------------------------------------------------------------------------


async def _owned(deps: Deps, customer_id: str, order_id: str) -> Order:
    async with deps.db.read() as session:
        order = await repo.customer_order(session, customer_id, order_id)
    if order is None:
        raise NotFound("There is no such order.")
    return order


async def cancel(deps: Deps, customer_id: str, order_id: str) -> OrderOut:
    """Cancel before shipping; the payment is refunded (or the refund retried until it succeeds)."""
    order = await _owned(deps, customer_id, order_id)
    await _transition(deps, order, OrderState.CANCELLED, "cancelled by the customer", by=CUSTOMER)
    await _try_refund_cancelled(deps, order, by=SYSTEM)
    return await load_view(deps, order.id)


async def _try_refund_cancelled(deps: Deps, order: Order, *, by: Actor) -> None:
    try:
        await refund_cancelled(deps, order, by=by)
    except (Problem, ServiceUnavailable):
        log.warning("refund after cancellation deferred to the reconciler", extra={"order_id": order.id})


async def refund_cancelled(deps: Deps, order: Order, *, by: Actor = SYSTEM) -> None:
    """Refund what is left of a cancelled order's payment, then mark it refunded. `by` is whoever
    cancelled it when that was staff (payments records who asked), else the system."""
    try:
        payment = await deps.payments.refund(
            order.id, refund_key="cancellation", reason="order_cancelled", staff=by.staff
        )
    except RemoteProblem as problem:
        if problem.slug != "nothing-to-refund":  # e.g. staff refunded it all before cancelling
            raise
        payment = await deps.payments.payment(order.id)
    await _transition(
        deps,
        order,
        OrderState.REFUNDED,
        "refunded after cancellation",
        by=by,
        payment_status=payment.status,
        refunded=payment.refunded.amount,
    )


async def request_return(deps: Deps, customer_id: str, order_id: str) -> OrderOut:
    order = await _owned(deps, customer_id, order_id)
    await _transition(deps, order, OrderState.RETURNED, "return requested by the customer", by=CUSTOMER)
    return await load_view(deps, order.id)


# --- the back office's ---------------------------------------------------------------------------

STAFF_MOVES: dict[OrderState, tuple[str, str]] = {
    # target: (audit action, the timeline's reason when staff give none)
    OrderState.CONFIRMED: ("order.confirm", "confirmed by the shop"),
    OrderState.PROCESSING: ("order.process", "being prepared for shipping"),
    OrderState.SHIPPED: ("order.ship", "handed to the carrier"),
    OrderState.DELIVERED: ("order.deliver", "delivered"),
    OrderState.CANCELLED: ("order.cancel", "cancelled by the shop"),
    OrderState.RETURNED: ("order.return", "returned to the shop"),
}


def _check_shipping_details(target: OrderState, body: TransitionIn) -> None:
    if target == OrderState.SHIPPED:
        missing = {
            field: "is required to ship"
            for field in ("carrier", "tracking_number")
            if getattr(body, field) is None
        }
        if missing:
            raise UnprocessableEntity("Shipping needs the carrier and the tracking number.", errors=missing)
    elif body.carrier is not None or body.tracking_number is not None:
        raise UnprocessableEntity(
            "A carrier and a tracking number belong to shipping only.",
            errors={field: "is only for `to: shipped`" for field in ("carrier", "tracking_number")},
        )


async def _arrived(deps: Deps, order: Order, target: OrderState, body: TransitionIn) -> bool:
    """Whether the order is where staff want it already, with the same data: a repeated request, to
    be answered as a success without a second change, event or e-mail."""
    if order.state == target:
        if target == OrderState.SHIPPED and (order.carrier, order.tracking_number) != (
            body.carrier,
            body.tracking_number,
        ):
            raise Conflict(
                f"The order was shipped already, with {order.carrier} {order.tracking_number}.",
                slug="already-shipped",
                carrier=order.carrier,
                tracking_number=order.tracking_number,
            )
        return True
    if order.state == OrderState.REFUNDED and target in (OrderState.CANCELLED, OrderState.RETURNED):
        async with deps.db.read() as session:  # cancelled (or returned), then refunded straight away
            return await repo.ever_in_state(session, order.id, target)
    return False


async def staff_transition(deps: Deps, staff: Staff, order_id: str, body: TransitionIn) -> StaffOrderOut:
    """Move an order as the state machine allows. Cancelling also refunds in full (catalog restocks
    on the OrderStatusChanged event, as for a shopper's cancel); if payments cannot refund now, the
    reconciler finishes it. Asking for the state the order is in already changes nothing."""
    target = OrderState(body.to)
    _check_shipping_details(target, body)
    order = await any_order(deps, order_id)
    by = Actor("staff", staff)
    if await _arrived(deps, order, target, body):
        if order.state == OrderState.CANCELLED:  # its refund did not go through yet: try again now
            await _try_refund_cancelled(deps, order, by=by)
        return await staff_order(deps, order_id)
    action, default_reason = STAFF_MOVES[target]
    try:
        await _transition(
            deps,
            order,
            target,
            body.reason or default_reason,
            by=by,
            audit=action,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
        )
    except Conflict:  # illegal, or another request moved it first: maybe this very request
        if not await _arrived(deps, await any_order(deps, order_id), target, body):
            raise
    else:
        if target == OrderState.CANCELLED:
            await _try_refund_cancelled(deps, order, by=by)
    return await staff_order(deps, order_id)
