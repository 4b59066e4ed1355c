"""How a pending order ends, for checkout and for the reconciler alike: placed (its one decisive
transaction), or failed once its reservation is released and its payment voided."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mercato.contracts.events import OrderLineSnapshot, OrderPlaced, OrderTotals, TaxLine, Tender
from mercato.contracts.money import Money
from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import Conflict, Problem, ServiceUnavailable
from mercato.platform.outbox import record_events
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Payment
from mercato.services.orders.deps import SYSTEM, Actor, Deps, now
from mercato.services.orders.domain import OrderState, order_number
from mercato.services.orders.history import load_view, order_view
from mercato.services.orders.invoicing.issue import number_invoice
from mercato.services.orders.links import order_url
from mercato.services.orders.models import Order, OrderLine, OrderStateChange
from mercato.services.orders.promotions import usage
from mercato.services.orders.promotions.events import applied_promotions, promotions_applied
from mercato.services.orders.schemas import OrderOut

log = logging.getLogger("mercato.orders")


class _NoLongerPending(Exception):
    """Rolls back a placing transaction that found its order already ended."""


async def place(
    deps: Deps, order: Order, lines: list[OrderLine], payment: Payment, *, reason: str, by: Actor
) -> OrderOut:
    """The checkout's one decisive transaction: the order is placed, its event staged, its cart emptied."""
    placed_at = now()
    order.tenders = list(payment.tenders)  # how payments says it was paid (gift cards, card)
    try:
        async with deps.db.unit_of_work() as session:
            # The numbers first (the order's, its invoice's), set by the same UPDATE that places the order;
            # if the order is no longer pending (the reconciler placed or failed it), everything rolls
            # back: numbers stay gapless.
            number = await repo.next_order_number(session)
            invoice_number = await number_invoice(session, market_id=order.market_id, placed_at=placed_at)
            if not await repo.move(
                session,
                order.id,
                expected=OrderState.PENDING_PAYMENT,
                state=OrderState.PLACED,
                now=placed_at,
                reason=reason,
                actor=by.kind,
                placed_at=placed_at,
                payment_status=payment.status,
                card_brand=payment.card_brand,
                card_last4=payment.card_last4,
                tenders=order.tenders,
                number=number,
                invoice_number=invoice_number,
            ):
                raise _NoLongerPending
            await record_events(
                session,
                [
                    _placed(deps, order, lines, number, placed_at, invoice_number),
                    *promotions_applied(order, placed_at),
                ],
                aggregate_id=order.id,
            )
            await repo.remove_checked_out_lines(session, order.id)
    except _NoLongerPending:  # the reconciler finished it meanwhile
        return await load_view(deps, order.id)
    order.state, order.placed_at, order.payment_status = OrderState.PLACED, placed_at, payment.status
    order.number, order.invoice_number = number, invoice_number
    order.card_brand, order.card_last4, order.updated_at = payment.card_brand, payment.card_last4, placed_at
    history = [
        OrderStateChange(to_state=OrderState.PENDING_PAYMENT, at=order.created_at, reason="checkout"),
        OrderStateChange(to_state=OrderState.PLACED, at=placed_at, reason=reason),
    ]
    return order_view(order, lines, history)


def _placed(
    deps: Deps, order: Order, lines: list[OrderLine], number: int, placed_at: datetime, invoice_number: str
) -> OrderPlaced:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=order.currency)

    return OrderPlaced(
        order_id=order.id,
        number=order_number(number),
        customer_id=order.buyer_id,
        total=money(order.total),
        placed_at=placed_at,
        email=order.email,
        order_url=order_url(deps.settings, order.id) if order.email else None,
        lines=tuple(
            OrderLineSnapshot(
                sku=line.sku,
                product_id=line.product_id,
                name=line.product_name,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                tax=money(line.tax),
                tax_rate=line.tax_rate,
                list_unit_price=money(line.list_unit_price) if line.list_unit_price is not None else None,
                discount=money(line.discount or 0),
                kind=line.kind or "physical",
            )
            for line in lines
        ),
        totals=OrderTotals(
            subtotal=money(order.subtotal),
            discount=money(order.discount),
            shipping=money(order.shipping),
            tax=money(order.tax),
            total=money(order.total),
        ),
        tax_lines=tuple(
            TaxLine(rate=t["rate"], label=t["label"], amount=money(t["amount"])) for t in order.tax_lines
        ),
        prices_include_tax=order.prices_include_tax,
        shipping_method=(order.shipping_method or {}).get("name"),
        market_id=order.market_id,
        invoice_number=invoice_number,
        promotions=applied_promotions(order),
        tenders=tuple(
            Tender(kind=t["kind"], amount=money(t["amount"]), last4=t.get("last4"))
            for t in order.tenders or ()
        ),
    )


def _stored_problem(status: int, problem: Problem) -> dict[str, Any]:
    return {
        "status": status,
        "slug": problem.slug,
        "title": problem.title,
        "detail": problem.detail,
        "errors": problem.errors,
        "extensions": problem.extensions,
    }


async def fail(deps: Deps, order: Order, status: int, problem: Problem, *, reason: str | None = None) -> None:
    async with deps.db.unit_of_work() as session:
        failed = await repo.move(
            session,
            order.id,
            expected=OrderState.PENDING_PAYMENT,
            state=OrderState.FAILED,
            now=now(),
            reason=reason or problem.detail[:200],
            actor=SYSTEM.kind,
            failure_status=status,
            failure=_stored_problem(status, problem),
        )
        await repo.release_cart(session, order.id)
        if failed:  # not placed meanwhile (by the reconciler): the promotions' uses are others' again
            await usage.release(session, order)


async def release(deps: Deps, order_id: str) -> bool:
    try:
        await deps.catalog.release(order_id)
    except RemoteProblem as problem:
        return problem.status == 404  # never reserved: nothing to release
    except ServiceUnavailable:
        return False
    return True


async def abandon(deps: Deps, order: Order, why: str, *, status: int = 503) -> Problem:
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
    if await release(deps, order.id):
        await fail(deps, order, status, problem, reason=why)
    return problem
