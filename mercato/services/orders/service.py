"""Orders use cases: the cart, checkout (the synchronous path), history, cancel and return, and the
reconciler that finishes or undoes checkouts a crash interrupted.

Checkout never holds a database transaction open across a call to another service. It writes the
order as `pending_payment` first — the durable record that a checkout is in flight — then reserves
stock, captures payment, commits the reservation, and finally places the order together with its
OrderPlaced event in one transaction. Each failure compensates the steps before it; if the process
dies half-way, the reconciler finds the pending order and completes or compensates it, asking the
other services (which are all idempotent by order id) what really happened.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato.contracts.carriers import tracking_link
from mercato.contracts.events import OrderLineSnapshot, OrderPlaced, OrderStatusChanged
from mercato.contracts.money import Money
from mercato.platform.auth import SESSION_ENDED, Shopper
from mercato.platform.clients import RemoteProblem
from mercato.platform.db import Database
from mercato.platform.errors import (
    Conflict,
    NotFound,
    PaymentRequired,
    Problem,
    ServiceUnavailable,
    Unauthorized,
    UnprocessableEntity,
)
from mercato.platform.idempotency import idempotent
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.platform.sessions import hold_customer, is_ended
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Catalog, Payments
from mercato.services.orders.domain import (
    TRANSITIONS,
    OrderState,
    check_transition,
    order_number,
    parse_order_number,
)
from mercato.services.orders.models import CartLine, Order, OrderLine, OrderStateChange
from mercato.services.orders.schemas import (
    CartItemIn,
    CartLineOut,
    CartOut,
    CheckoutIn,
    HistoryEntry,
    OrderLineOut,
    OrderOut,
    OrderSummary,
    PaymentSummary,
    StaffOrderOut,
    StaffOrderSummary,
    StaffPaymentSummary,
    StaffRefundIn,
    StateChangeOut,
    TransitionIn,
)
from mercato.services.orders.settings import OrdersSettings

log = logging.getLogger("mercato.orders")


@dataclass(frozen=True)
class Deps:
    db: Database
    catalog: Catalog
    payments: Payments
    settings: OrdersSettings


@dataclass(frozen=True)
class Actor:
    """Who asked for a change of state: what the order's timeline shows (and, for staff, whom the
    audit trail names)."""

    kind: Literal["customer", "staff", "system"]
    staff: Staff | None = None

    @property
    def staff_id(self) -> str | None:
        return self.staff.id if self.staff else None


CUSTOMER = Actor("customer")
SYSTEM = Actor("system")  # the reconciler, or a consequence of another change (a refund after a cancel)


def _now() -> datetime:
    return datetime.now(UTC)


def _shipping(subtotal: int, settings: OrdersSettings) -> int:
    return 0 if subtotal == 0 or subtotal >= settings.free_shipping_from else settings.shipping_flat_amount


# --- cart ----------------------------------------------------------------------------------------


def _cart_view(
    lines: list[CartLine], variants: dict[str, dict[str, Any]], settings: OrdersSettings
) -> CartOut:
    out, subtotal, currency = [], 0, "EUR"
    for line in lines:
        variant = variants.get(line.sku)
        price = Money.model_validate(variant["price"]) if variant else None
        if price:
            currency = price.currency
            subtotal += price.amount * line.quantity
        available = variant["available"] if variant else 0
        out.append(
            CartLineOut(
                sku=line.sku,
                product_id=variant["product_id"] if variant else None,
                name=variant["product_name"] if variant else None,
                attributes=variant["attributes"] if variant else {},
                image_url=variant["image_url"] if variant else None,
                quantity=line.quantity,
                unit_price=price,
                line_total=Money(amount=price.amount * line.quantity, currency=price.currency)
                if price
                else None,
                available=available,
                purchasable=variant is not None and available >= line.quantity,
            )
        )
    shipping = _shipping(subtotal, settings)
    return CartOut(
        lines=out,
        subtotal=Money(amount=subtotal, currency=currency),
        shipping=Money(amount=shipping, currency=currency),
        total=Money(amount=subtotal + shipping, currency=currency),
        item_count=sum(line.quantity for line in lines),
        purchasable=bool(out) and all(line.purchasable for line in out),
    )


async def cart(deps: Deps, customer_id: str) -> CartOut:
    async with deps.db.read() as session:
        lines = await repo.cart_lines(session, customer_id)
    return _cart_view(lines, await deps.catalog.variants([line.sku for line in lines]), deps.settings)


async def _variant(deps: Deps, sku: str) -> dict[str, Any]:
    variant = (await deps.catalog.variants([sku])).get(sku)
    if variant is None:
        raise UnprocessableEntity(
            f"There is no product with SKU {sku}.", errors={"sku": "is not a known SKU"}
        )
    return variant


def _check_quantity(deps: Deps, quantity: int, variant: dict[str, Any]) -> None:
    if quantity > deps.settings.max_line_quantity:
        raise UnprocessableEntity(
            f"At most {deps.settings.max_line_quantity} of one item per order.",
            errors={"quantity": f"must be at most {deps.settings.max_line_quantity}"},
        )
    if quantity > variant["available"]:
        raise Conflict(
            f"Only {variant['available']} of {variant['sku']} can be bought right now.",
            slug="out-of-stock",
            unavailable=[{"sku": variant["sku"], "requested": quantity, "available": variant["available"]}],
        )


async def add_item(deps: Deps, customer_id: str, item: CartItemIn) -> CartOut:
    variant = await _variant(deps, item.sku)
    async with deps.db.unit_of_work() as session:
        if await repo.cart_line(session, customer_id, item.sku) is None and (
            await repo.count_cart_lines(session, customer_id) >= deps.settings.max_cart_lines
        ):
            raise UnprocessableEntity(f"A cart holds at most {deps.settings.max_cart_lines} different items.")
        quantity = await repo.add_to_cart_line(session, customer_id, item.sku, item.quantity, _now())
        _check_quantity(deps, quantity, variant)  # raising rolls the addition back
    return await cart(deps, customer_id)


async def set_quantity(deps: Deps, customer_id: str, sku: str, quantity: int) -> CartOut:
    variant = await _variant(deps, sku)
    _check_quantity(deps, quantity, variant)
    async with deps.db.unit_of_work() as session:
        line = await repo.cart_line(session, customer_id, sku)
        if line is None:
            raise NotFound(f"{sku} is not in your cart.")
        line.quantity = quantity
    return await cart(deps, customer_id)


async def remove_item(deps: Deps, customer_id: str, sku: str) -> None:
    async with deps.db.unit_of_work() as session:
        if not await repo.remove_cart_lines(session, customer_id, [sku]):
            raise NotFound(f"{sku} is not in your cart.")


# --- order views ---------------------------------------------------------------------------------


def order_view(order: Order, lines: Iterable[OrderLine], history: Iterable[OrderStateChange]) -> OrderOut:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=order.currency)

    return OrderOut(
        id=order.id,
        number=order_number(order.number),
        state=order.state,
        lines=[
            OrderLineOut(
                sku=line.sku,
                product_id=line.product_id,
                name=line.product_name,
                attributes=line.attributes,
                image_url=line.image_url,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                line_total=money(line.unit_price * line.quantity),
            )
            for line in lines
        ],
        subtotal=money(order.subtotal),
        shipping=money(order.shipping),
        total=money(order.total),
        shipping_address=order.shipping_address,
        payment=PaymentSummary(
            status=order.payment_status,
            card_brand=order.card_brand,
            card_last4=order.card_last4,
            amount=money(order.total),
            refunded=money(order.refunded),
        ),
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        tracking_url=tracking_link(order.carrier, order.tracking_number),
        history=[StateChangeOut(state=h.to_state, at=h.at, reason=h.reason) for h in history],
        created_at=order.created_at,
        placed_at=order.placed_at,
    )


async def _load_view(deps: Deps, order_id: str) -> OrderOut:
    async with deps.db.read() as session:
        order = await repo.order(session, order_id)
        assert order is not None
        return order_view(
            order, await repo.lines_of(session, order_id), await repo.history_of(session, order_id)
        )


async def get_order(deps: Deps, customer_id: str, order_id: str) -> OrderOut:
    async with deps.db.read() as session:
        order = await repo.customer_order(session, customer_id, order_id)
        if order is None:  # someone else's order looks exactly like a missing one
            raise NotFound("There is no such order.")
        return order_view(
            order, await repo.lines_of(session, order_id), await repo.history_of(session, order_id)
        )


async def list_orders(deps: Deps, customer_id: str, *, before: str | None, limit: int) -> list[OrderSummary]:
    async with deps.db.read() as session:
        rows = await repo.customer_orders(session, customer_id, before=before, limit=limit)
    return [
        OrderSummary(
            id=o.id,
            number=order_number(o.number),
            state=o.state,
            total=Money(amount=o.total, currency=o.currency),
            item_count=count,
            created_at=o.created_at,
            placed_at=o.placed_at,
        )
        for o, count in rows
    ]


# --- checkout ------------------------------------------------------------------------------------


def _fingerprint(body: CheckoutIn) -> str:
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _stored_problem(status: int, problem: Problem) -> dict[str, Any]:
    return {
        "status": status,
        "slug": problem.slug,
        "title": problem.title,
        "detail": problem.detail,
        "errors": problem.errors,
        "extensions": problem.extensions,
    }


def _replayed_problem(order: Order) -> Problem:
    stored = order.failure or {}
    problem = {402: PaymentRequired, 409: Conflict}.get(order.failure_status or 503, ServiceUnavailable)(
        stored.get("detail"), errors=stored.get("errors"), **(stored.get("extensions") or {})
    )
    if stored.get("slug"):
        problem.slug = stored["slug"]
    return problem


async def _replay(deps: Deps, order: Order, fingerprint: str) -> tuple[int, OrderOut]:
    if order.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different checkout.",
            errors={"Idempotency-Key": "was used for a different request"},
        )
    if order.state == OrderState.FAILED:
        raise _replayed_problem(order)
    view = await _load_view(deps, order.id)
    return (202 if order.state == OrderState.PENDING_PAYMENT else 201), view


async def checkout(deps: Deps, shopper: Shopper, key: str, body: CheckoutIn) -> tuple[int, OrderOut]:
    """Returns (201, placed order), or (202, pending order) when the outcome is being finalised."""
    customer_id = shopper.id
    fingerprint = _fingerprint(body)
    async with deps.db.read() as session:
        existing = await repo.order_by_key(session, customer_id, key)
        lines = [] if existing else await repo.cart_lines(session, customer_id)
    if existing:
        return await _replay(deps, existing, fingerprint)
    if not lines:
        raise UnprocessableEntity("Your cart is empty.", errors={"cart": "is empty"})
    if holder := next((line.order_id for line in lines if line.order_id), None):
        raise _checkout_in_progress(holder)

    variants = await deps.catalog.variants([line.sku for line in lines])
    if gone := [line.sku for line in lines if line.sku not in variants]:
        raise Conflict(
            "Some items in your cart are no longer sold.",
            slug="out-of-stock",
            unavailable=[{"sku": sku, "requested": 0, "available": 0} for sku in gone],
        )
    currencies = {variants[line.sku]["price"]["currency"] for line in lines}
    if len(currencies) != 1:
        raise Conflict("All items of one order must be priced in one currency.")

    now = _now()
    order_id = new_id("ord")
    order_lines = [
        OrderLine(
            order_id=order_id,
            sku=line.sku,
            product_id=variants[line.sku]["product_id"],
            product_name=variants[line.sku]["product_name"],
            attributes=variants[line.sku]["attributes"],
            image_url=variants[line.sku]["image_url"],
            unit_price=variants[line.sku]["price"]["amount"],
            quantity=line.quantity,
        )
        for line in lines
    ]
    subtotal = sum(line.unit_price * line.quantity for line in order_lines)
    shipping = _shipping(subtotal, deps.settings)
    order = Order(
        id=order_id,
        customer_id=customer_id,
        state=OrderState.PENDING_PAYMENT,
        currency=currencies.pop(),
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        shipping_address=body.shipping_address.model_dump(mode="json"),
        payment_method=body.payment_method,
        idempotency_key=key,
        request_hash=fingerprint,
        refunded=0,
        created_at=now,
        updated_at=now,
    )
    async with deps.db.unit_of_work() as session:
        # The order holds personal data (the shipping address): it is written only while the session is
        # alive, serialised with the handling of an erasure (consumers.py), which erases every order
        # written before it; nothing is reserved or charged before this commits.
        await hold_customer(session, customer_id)
        if await is_ended(session, customer_id, shopper.issued_at):
            raise Unauthorized(SESSION_ENDED)
        try:
            await repo.add_order(
                session,
                order,
                order_lines,
                OrderStateChange(
                    order_id=order_id,
                    from_state=None,
                    to_state=OrderState.PENDING_PAYMENT,
                    reason="checkout",
                    at=now,
                    actor=CUSTOMER.kind,
                ),
            )
        except repo.DuplicateKey:
            existing = await repo.order_by_key(session, customer_id, key)
        else:
            await _hold_cart(session, order, order_lines)
    if existing:  # a concurrent request with the same key got there first
        return await _replay(deps, existing, fingerprint)
    return await _complete(deps, order, order_lines)


async def _hold_cart(session: AsyncSession, order: Order, lines: list[OrderLine]) -> None:
    """A cart is checked out at most once: this checkout holds its lines until it is placed (they
    leave the cart) or fails (they are free again). A second tab's checkout, racing this one with its
    own Idempotency-Key, finds them held and is refused (the order insert rolls back with it)."""
    held = await repo.claim_cart(session, order.customer_id, order.id)
    if held == {line.sku: line.quantity for line in lines}:
        return
    if (holder := await repo.cart_holder(session, order.customer_id)) and holder != order.id:
        raise _checkout_in_progress(holder)
    raise Conflict(
        "Your cart changed while you were checking out (perhaps it was just ordered in another window). "
        "Please review your cart and your orders; you have not been charged for this attempt.",
        slug="cart-changed",
    )


def _checkout_in_progress(order_id: str) -> Conflict:
    return Conflict(
        "This cart is already being checked out (in another window or tab); you have not been charged "
        "twice. See your orders in a moment.",
        slug="checkout-in-progress",
        order_id=order_id,
    )


async def _complete(deps: Deps, order: Order, lines: list[OrderLine]) -> tuple[int, OrderOut]:
    quantities = {line.sku: line.quantity for line in lines}
    try:
        await deps.catalog.reserve(
            key=order.id, lines=quantities, ttl_seconds=deps.settings.reservation_ttl_seconds
        )
    except RemoteProblem as problem:
        if problem.status not in (409, 422):
            raise
        out_of_stock = Conflict(
            "Some items sold out while you were checking out.",
            slug="out-of-stock",
            unavailable=problem.body.get("unavailable", []),
        )
        await _fail(deps, order, 409, out_of_stock)
        raise out_of_stock from None
    except ServiceUnavailable:
        raise await _abandon(deps, order, "the catalog did not answer") from None

    try:
        payment = await deps.payments.pay(
            order_id=order.id,
            customer_id=order.customer_id,
            amount=Money(amount=order.total, currency=order.currency),
            payment_method=order.payment_method,
        )
    except RemoteProblem as problem:
        if problem.status != 402:
            raise await _abandon(deps, order, f"payments refused the request ({problem.status})") from None
        await _release(deps, order.id)
        declined = PaymentRequired(
            problem.detail, errors=problem.errors, decline_code=problem.body.get("decline_code")
        )
        await _fail(deps, order, 402, declined)
        raise declined from None
    except ServiceUnavailable:
        raise await _abandon(deps, order, "the payment did not complete") from None

    _crash_if_armed(deps.settings)
    try:
        await deps.catalog.commit(order.id)
    except RemoteProblem:  # the reservation ran out while paying: undo the payment
        raise await _abandon(
            deps, order, "the stock reservation expired during payment", status=409
        ) from None
    except ServiceUnavailable:
        log.warning(
            "reservation commit unconfirmed; the reconciler will finish", extra={"order_id": order.id}
        )
        return 202, order_view(order, lines, [])
    return 201, await _place(deps, order, lines, payment, reason="paid", by=CUSTOMER)


def _crash_if_armed(settings: OrdersSettings) -> None:
    """Test hook: die here, between capture and commit, as a power cut would."""
    if settings.crash_hook_file and settings.crash_hook_file.exists():
        settings.crash_hook_file.unlink()
        os.kill(os.getpid(), signal.SIGKILL)


async def _place(
    deps: Deps, order: Order, lines: list[OrderLine], payment: dict[str, Any], *, reason: str, by: Actor
) -> OrderOut:
    """The checkout's one decisive transaction: the order is placed, its event staged, its cart emptied."""
    now = _now()
    card = payment.get("card") or {}
    async with deps.db.unit_of_work() as session:
        placed = await repo.move(
            session,
            order.id,
            expected=OrderState.PENDING_PAYMENT,
            state=OrderState.PLACED,
            now=now,
            reason=reason,
            actor=by.kind,
            placed_at=now,
            payment_status=payment["status"],
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
        )
        if placed:
            number = await repo.next_order_number(session)
            await repo.set_order_number(session, order.id, number)
            await record_event(
                session,
                OrderPlaced(
                    order_id=order.id,
                    number=order_number(number),
                    customer_id=order.customer_id,
                    total=Money(amount=order.total, currency=order.currency),
                    placed_at=now,
                    lines=tuple(
                        OrderLineSnapshot(
                            sku=line.sku,
                            product_id=line.product_id,
                            name=line.product_name,
                            quantity=line.quantity,
                            unit_price=Money(amount=line.unit_price, currency=order.currency),
                        )
                        for line in lines
                    ),
                ),
                aggregate_type="order",
                aggregate_id=order.id,
            )
            await repo.remove_checked_out_lines(session, order.customer_id, order.id)
    if not placed:  # the reconciler finished it meanwhile
        return await _load_view(deps, order.id)
    order.state, order.placed_at, order.payment_status = OrderState.PLACED, now, payment["status"]
    order.number = number
    order.card_brand, order.card_last4, order.updated_at = card.get("brand"), card.get("last4"), now
    history = [
        OrderStateChange(to_state=OrderState.PENDING_PAYMENT, at=order.created_at, reason="checkout"),
        OrderStateChange(to_state=OrderState.PLACED, at=now, reason=reason),
    ]
    return order_view(order, lines, history)


async def _fail(
    deps: Deps, order: Order, status: int, problem: Problem, *, reason: str | None = None
) -> None:
    async with deps.db.unit_of_work() as session:
        await repo.move(
            session,
            order.id,
            expected=OrderState.PENDING_PAYMENT,
            state=OrderState.FAILED,
            now=_now(),
            reason=reason or problem.detail[:200],
            actor=SYSTEM.kind,
            failure_status=status,
            failure=_stored_problem(status, problem),
        )
        await repo.release_cart(session, order.customer_id, order.id)


async def _release(deps: Deps, order_id: str) -> bool:
    try:
        await deps.catalog.release(order_id)
    except RemoteProblem as problem:
        return problem.status == 404  # never reserved: nothing to release
    except ServiceUnavailable:
        return False
    return True


async def _abandon(deps: Deps, order: Order, why: str, *, status: int = 503) -> Problem:
    """Undo payment and reservation, then fail the order. If that can't be done now, the order stays
    pending and the reconciler finishes the job. Returns the problem to answer the client with."""
    problem: Problem = (
        Conflict("Some items sold out while you were paying; you have not been charged.", slug="out-of-stock")
        if status == 409
        else ServiceUnavailable(
            f"Checkout could not complete: {why}. You have not been charged; please try again."
        )
    )
    try:
        await deps.payments.void(order.id)
    except (RemoteProblem, ServiceUnavailable):
        log.warning("could not void payment; the reconciler will", extra={"order_id": order.id})
        return problem
    if await _release(deps, order.id):
        await _fail(deps, order, status, problem, reason=why)
    return problem


# --- recovery ------------------------------------------------------------------------------------


async def reconcile(deps: Deps) -> int:
    """Finish or undo checkouts that have been pending too long (the process died mid-way, or a
    service was down), and refunds of cancelled orders that did not go through. Returns how many."""
    cutoff = _now() - timedelta(seconds=deps.settings.reconcile_after_seconds)
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
            await _refund_cancelled(deps, order)
            done += 1
        except (Problem, ServiceUnavailable) as error:
            log.warning(
                "could not refund cancelled order yet", extra={"order_id": order.id, "error": str(error)}
            )
    return done


async def _recover(deps: Deps, order: Order) -> None:
    try:
        payment: dict[str, Any] | None = await deps.payments.resolve(order.id)
    except RemoteProblem as problem:
        if problem.status != 404:
            raise
        payment = None
    async with deps.db.read() as session:
        lines = await repo.lines_of(session, order.id)
    if payment and payment["status"] in ("captured", "partially_refunded"):
        try:  # idempotent by key: returns the reservation made before the crash
            await deps.catalog.reserve(
                key=order.id,
                lines={line.sku: line.quantity for line in lines},
                ttl_seconds=deps.settings.reservation_ttl_seconds,
            )
            await deps.catalog.commit(order.id)
        except RemoteProblem:
            await _abandon(deps, order, "stock was gone when the interrupted checkout resumed", status=409)
            return
        await _place(
            deps, order, lines, payment, reason="completed by the reconciler after an interruption", by=SYSTEM
        )
        log.info("recovered interrupted checkout", extra={"order_id": order.id})
        return
    await _abandon(deps, order, "the checkout was interrupted before payment completed")


# --- after the sale ------------------------------------------------------------------------------


async def _record_transition(
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
    now, from_state = _now(), order.state  # read first: the UPDATE refreshes an order this session holds
    if carrier or tracking_number:
        values |= {"carrier": carrier, "tracking_number": tracking_number}
    moved = await repo.move(
        session,
        order.id,
        expected=from_state,
        state=target,
        now=now,
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
            customer_id=order.customer_id,
            from_state=from_state,
            to_state=target,
            reason=reason,
            changed_at=now,
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
) -> bool:
    check_transition(order.state, target)
    async with deps.db.unit_of_work() as session:
        moved = await _record_transition(session, order, target, reason, by=by, **kwargs)
    if not moved:
        raise Conflict("The order changed meanwhile; reload it and try again.")
    order.state = target
    return moved


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
    return await _load_view(deps, order.id)


async def _try_refund_cancelled(deps: Deps, order: Order, *, by: Actor) -> None:
    try:
        await _refund_cancelled(deps, order, by=by)
    except (Problem, ServiceUnavailable):
        log.warning("refund after cancellation deferred to the reconciler", extra={"order_id": order.id})


async def _refund_cancelled(deps: Deps, order: Order, *, by: Actor = SYSTEM) -> None:
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
        payment_status=payment["status"],
        refunded=payment["refunded"]["amount"],
    )


async def request_return(deps: Deps, customer_id: str, order_id: str) -> OrderOut:
    order = await _owned(deps, customer_id, order_id)
    await _transition(deps, order, OrderState.RETURNED, "return requested by the customer", by=CUSTOMER)
    return await _load_view(deps, order.id)


# --- back office (/admin/v1) ---------------------------------------------------------------------

STAFF_MOVES: dict[OrderState, tuple[str, str]] = {
    # target: (audit action, the timeline's reason when staff give none)
    OrderState.CONFIRMED: ("order.confirm", "confirmed by the shop"),
    OrderState.PROCESSING: ("order.process", "being prepared for shipping"),
    OrderState.SHIPPED: ("order.ship", "handed to the carrier"),
    OrderState.DELIVERED: ("order.deliver", "delivered"),
    OrderState.CANCELLED: ("order.cancel", "cancelled by the shop"),
    OrderState.RETURNED: ("order.return", "returned to the shop"),
}
NOT_SHIPPED = frozenset({OrderState.PLACED, OrderState.CONFIRMED, OrderState.PROCESSING})


def staff_view(
    order: Order, lines: Iterable[OrderLine], history: Iterable[OrderStateChange]
) -> StaffOrderOut:
    shopper = order_view(order, lines, [])
    refundable = order.total - order.refunded if order.placed_at else 0
    return StaffOrderOut(
        id=order.id,
        number=shopper.number,
        customer_id=order.customer_id,
        state=order.state,
        lines=shopper.lines,
        subtotal=shopper.subtotal,
        shipping=shopper.shipping,
        total=shopper.total,
        shipping_address=order.shipping_address,
        payment=StaffPaymentSummary(
            **shopper.payment.model_dump(),
            captured=Money(amount=order.total if order.placed_at else 0, currency=order.currency),
            refundable=Money(amount=max(refundable, 0), currency=order.currency),
        ),
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        tracking_url=shopper.tracking_url,
        history=[
            HistoryEntry(
                from_state=h.from_state,
                state=h.to_state,
                at=h.at,
                reason=h.reason,
                actor=h.actor,
                staff_id=h.staff_id,
            )
            for h in history
        ],
        failure=order.failure,
        created_at=order.created_at,
        updated_at=order.updated_at,
        placed_at=order.placed_at,
    )


async def _staff_view_in(session: AsyncSession, order_id: str) -> StaffOrderOut:
    order = await repo.order(session, order_id, fresh=True)
    if order is None:
        raise NotFound("There is no such order.")
    return staff_view(order, await repo.lines_of(session, order_id), await repo.history_of(session, order_id))


async def staff_order(deps: Deps, order_id: str) -> StaffOrderOut:
    """Any order, failed checkouts included, with everything operations and support need."""
    async with deps.db.read() as session:
        return await _staff_view_in(session, order_id)


async def _any_order(deps: Deps, order_id: str) -> Order:
    async with deps.db.read() as session:
        order = await repo.order(session, order_id)
    if order is None:
        raise NotFound("There is no such order.")
    return order


def day_start(day: date) -> datetime:
    """The first instant of a UTC day: the back office's dates are UTC days."""
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class _Searched:
    id_prefix: str | None = None
    customer_id: str | None = None
    number: int | None = None


def _search(q: str) -> _Searched:
    """`q` as an order number (`M-10042`, `10042`), an order id or its start, or a customer id. Orders
    keeps no e-mail addresses (customers does), so an address is refused with directions rather than
    silently matching nothing."""
    q = q.strip()
    if "@" in q:
        raise UnprocessableEntity(
            "Orders does not know e-mail addresses: look the customer up under /admin/v1/customers, "
            "then filter orders by customer_id.",
            errors={"q": "cannot be an e-mail address; use customer_id"},
        )
    if (number := parse_order_number(q)) is not None:
        return _Searched(number=number)
    head, underscore, body = q.partition("_")
    if underscore and head.lower() == "cus":
        return _Searched(customer_id=f"cus_{body.upper()}")
    if underscore and head.lower() == "ord":
        return _Searched(id_prefix=f"ord_{body.upper()}")
    return _Searched(id_prefix=f"ord_{q.upper()}")  # the start of an order id without its prefix


async def staff_orders(
    deps: Deps,
    *,
    states: list[OrderState],
    placed_from: date | None,
    placed_to: date | None,
    customer_id: str | None,
    q: str | None,
    before: str | None,
    limit: int,
) -> list[StaffOrderSummary]:
    if placed_from and placed_to and placed_from > placed_to:
        raise UnprocessableEntity("`from` is after `to`.", errors={"from": "must not be after to"})
    searched = _search(q) if q and q.strip() else _Searched()
    if searched.customer_id and customer_id and searched.customer_id != customer_id:
        return []  # two different customers: nothing can match both
    async with deps.db.read() as session:
        rows = await repo.staff_orders(
            session,
            states=[str(state) for state in states],
            placed_from=day_start(placed_from) if placed_from else None,
            placed_before=day_start(placed_to + timedelta(days=1)) if placed_to else None,
            customer_id=customer_id or searched.customer_id,
            id_prefix=searched.id_prefix,
            number=searched.number,
            before=before,
            limit=limit,
        )
    return [
        StaffOrderSummary(
            id=o.id,
            number=order_number(o.number),
            customer_id=o.customer_id,
            state=o.state,
            total=Money(amount=o.total, currency=o.currency),
            refunded=Money(amount=o.refunded, currency=o.currency),
            item_count=count,
            created_at=o.created_at,
            placed_at=o.placed_at,
        )
        for o, count in rows
    ]


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
    order = await _any_order(deps, order_id)
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
        if not await _arrived(deps, await _any_order(deps, order_id), target, body):
            raise
    else:
        if target == OrderState.CANCELLED:
            await _try_refund_cancelled(deps, order, by=by)
    return await staff_order(deps, order_id)


def _refund_key(idempotency_key: str) -> str:
    """The refund's key at payments (and, through it, at the provider): derived from the client's
    Idempotency-Key, so a retry of the request can never become a second refund."""
    return "staff:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


async def staff_refund(
    deps: Deps, staff: Staff, order_id: str, idempotency_key: str, body: StaffRefundIn
) -> Response:
    """Refund all or part of an order's payment through payments (which records the refund, who asked
    for it, and its PaymentRefunded event). An order refunded in full becomes `refunded` where the
    state machine allows it (from cancelled or returned); elsewhere its state stays and the refund is
    on its payment. Before shipping, refunding everything is a cancellation: 409, cancel instead."""
    order = await _any_order(deps, order_id)
    if order.state in (OrderState.PENDING_PAYMENT, OrderState.FAILED):
        raise Conflict(
            "This order has no captured payment to refund.", slug="nothing-to-refund", state=order.state
        )
    if body.amount is not None and body.amount.currency != order.currency:
        raise UnprocessableEntity(
            f"The order was paid in {order.currency}.",
            errors={"amount.currency": f"must be {order.currency}"},
        )
    if body.amount is None and order.state in NOT_SHIPPED:
        raise Conflict(
            "To refund everything before shipping, cancel the order: that refunds in full and restocks.",
            slug="cancel-instead",
            state=order.state,
        )
    try:
        payment = await deps.payments.refund(
            order.id,
            refund_key=_refund_key(idempotency_key),
            reason=body.reason,
            amount=body.amount.amount if body.amount else None,
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
    by = Actor("staff", staff)
    async with deps.db.unit_of_work() as session:
        return await idempotent(
            session,
            scope=f"staff-refund:{order.id}",
            key=idempotency_key,
            request=body,
            status_code=200,
            required=True,
            run=lambda: _settle_refund(session, order.id, payment, by=by, reason=body.reason),
        )


async def _settle_refund(
    session: AsyncSession, order_id: str, payment: dict[str, Any], *, by: Actor, reason: str
) -> StaffOrderOut:
    """Take payments' word for what is refunded; refunded in full, the order becomes `refunded` if its
    state allows (that change's event tells the customer nothing: the refund has its own e-mail)."""
    order = await repo.order(session, order_id, fresh=True)
    assert order is not None
    refunded, status = payment["refunded"]["amount"], payment["status"]
    moved = False
    in_full = refunded >= payment["captured"]["amount"]
    if in_full and OrderState.REFUNDED in TRANSITIONS[OrderState(order.state)]:
        moved = await _record_transition(
            session,
            order,
            OrderState.REFUNDED,
            f"refunded in full: {reason}"[:200],
            by=by,
            refunded=refunded,
            payment_status=status,
        )
    if not moved:
        await repo.set_payment(session, order_id, refunded=refunded, payment_status=status, now=_now())
    return await _staff_view_in(session, order_id)
