"""The back office's look-ups (`/admin/v1`): every order, failed checkouts included, filtered and
searched, and one order with everything operations and support need."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.money import Money
from mercato.platform.errors import NotFound, UnprocessableEntity
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps
from mercato.services.orders.domain import OrderState, order_number, parse_order_number
from mercato.services.orders.history import documents_view, order_view
from mercato.services.orders.invoicing import repository as invoicing_repo
from mercato.services.orders.invoicing.models import CreditNote
from mercato.services.orders.models import Order, OrderLine, OrderStateChange
from mercato.services.orders.schemas import (
    HistoryEntry,
    StaffOrderOut,
    StaffOrderSummary,
    StaffPaymentSummary,
)


def staff_view(
    order: Order,
    lines: Iterable[OrderLine],
    history: Iterable[OrderStateChange],
    credit_notes: Iterable[CreditNote] = (),
) -> StaffOrderOut:
    shopper = order_view(order, lines, [])
    invoice_url, notes = documents_view(order, credit_notes, prefix="/admin/v1")
    refundable = order.total - order.refunded if order.placed_at else 0
    return StaffOrderOut(
        id=order.id,
        number=shopper.number,
        customer_id=order.customer_id,
        email=order.email,
        state=order.state,
        lines=shopper.lines,
        market=shopper.market,
        totals=shopper.totals,
        tax_lines=shopper.tax_lines,
        promotions=shopper.promotions,
        subtotal=shopper.subtotal,
        shipping=shopper.shipping,
        total=shopper.total,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        shipping_method=shopper.shipping_method,
        payment=StaffPaymentSummary(
            **shopper.payment.model_dump(),
            captured=Money(amount=order.total if order.placed_at else 0, currency=order.currency),
            refundable=Money(amount=max(refundable, 0), currency=order.currency),
        ),
        tenders=shopper.tenders,
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
        invoice_number=order.invoice_number,
        invoice_url=invoice_url,
        credit_notes=notes,
        created_at=order.created_at,
        updated_at=order.updated_at,
        placed_at=order.placed_at,
    )


async def staff_view_in(session: AsyncSession, order_id: str) -> StaffOrderOut:
    order = await repo.order(session, order_id, fresh=True)
    if order is None:
        raise NotFound("There is no such order.")
    return staff_view(
        order,
        await repo.lines_of(session, order_id),
        await repo.history_of(session, order_id),
        await invoicing_repo.credit_notes_of(session, order_id),
    )


async def staff_order(deps: Deps, order_id: str) -> StaffOrderOut:
    """Any order, failed checkouts included, with everything operations and support need."""
    async with deps.db.read() as session:
        return await staff_view_in(session, order_id)


async def any_order(deps: Deps, order_id: str) -> Order:
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
