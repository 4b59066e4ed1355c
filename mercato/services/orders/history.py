"""The shopper's orders: one order as they see it, and their purchase history."""

from __future__ import annotations

from collections.abc import Iterable

from mercato.contracts.carriers import tracking_link
from mercato.contracts.money import Money
from mercato.platform.errors import NotFound
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps
from mercato.services.orders.domain import may_cancel, order_number
from mercato.services.orders.invoicing import repository as invoicing_repo
from mercato.services.orders.invoicing.models import CreditNote
from mercato.services.orders.models import Order, OrderLine, OrderStateChange
from mercato.services.orders.pricing.money import refunded_tax
from mercato.services.orders.promotions.cart_schemas import AppliedPromotionOut
from mercato.services.orders.quoting import stored_method_out, stored_tax_lines_out
from mercato.services.orders.schemas import (
    CreditNoteOut,
    MarketOut,
    OrderLineOut,
    OrderOut,
    OrderSummary,
    PaymentSummary,
    StateChangeOut,
    TenderOut,
    Totals,
)


def documents_view(
    order: Order, credit_notes: Iterable[CreditNote], *, prefix: str
) -> tuple[str | None, list[CreditNoteOut]]:
    """The order's invoice URL and credit notes, under `prefix` (/api/v1 or /admin/v1)."""
    base = f"{prefix}/orders/{order.id}"
    return (f"{base}/invoice" if order.invoice_number else None), [
        CreditNoteOut(
            number=note.number,
            url=f"{base}/credit-notes/{note.number}",
            amount=Money(amount=note.amount, currency=order.currency),
            tax=Money(amount=note.tax, currency=order.currency),
            issued_at=note.issued_at,
        )
        for note in credit_notes
    ]


def order_view(
    order: Order,
    lines: Iterable[OrderLine],
    history: Iterable[OrderStateChange],
    credit_notes: Iterable[CreditNote] = (),
) -> OrderOut:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=order.currency)

    invoice_url, notes = documents_view(order, credit_notes, prefix="/api/v1")

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
                line_total=money(line.line_total),
                tax=money(line.tax),
                tax_rate=line.tax_rate,
                discount=money(line.discount),
                list_unit_price=money(line.list_unit_price) if line.list_unit_price is not None else None,
                kind=line.kind or "physical",
            )
            for line in lines
        ],
        market=MarketOut(
            id=order.market_id, currency=order.currency, prices_include_tax=order.prices_include_tax
        ),
        totals=Totals(
            subtotal=money(order.subtotal),
            discount=money(order.discount),
            shipping=money(order.shipping),
            tax=money(order.tax),
            total=money(order.total),
        ),
        tax_lines=stored_tax_lines_out(order.tax_lines or [], order.currency),
        promotions=[
            AppliedPromotionOut(
                promotion_id=p["promotion_id"], name=p["name"], code=p.get("code"), amount=money(p["amount"])
            )
            for p in order.promotions or ()
        ],
        subtotal=money(order.subtotal),
        shipping=money(order.shipping),
        total=money(order.total),
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        shipping_method=stored_method_out(order.shipping_method, order.currency),
        payment=PaymentSummary(
            status=order.payment_status,
            card_brand=order.card_brand,
            card_last4=order.card_last4,
            amount=money(order.total),
            refunded=money(order.refunded),
            refunded_tax=money(
                sum(refunded_tax([t["amount"] for t in order.tax_lines or []], order.total, order.refunded))
            ),
        ),
        tenders=tenders_view(order),
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        tracking_url=tracking_link(order.carrier, order.tracking_number),
        history=[StateChangeOut(state=h.to_state, at=h.at, reason=h.reason) for h in history],
        can_cancel=may_cancel(order.state),
        invoice_number=order.invoice_number,
        invoice_url=invoice_url,
        credit_notes=notes,
        created_at=order.created_at,
        placed_at=order.placed_at,
        email=order.email,
    )


def tenders_view(order: Order) -> list[TenderOut]:
    """As stored when it was placed; an order from before gift cards was paid by card, all of it."""
    if not order.placed_at:
        return []
    stored = order.tenders or [{"kind": "card", "last4": order.card_last4, "amount": order.total}]
    return [
        TenderOut(
            kind=t["kind"], last4=t.get("last4"), amount=Money(amount=t["amount"], currency=order.currency)
        )
        for t in stored
    ]


async def load_view(deps: Deps, order_id: str) -> OrderOut:
    async with deps.db.read() as session:
        order = await repo.order(session, order_id)
        assert order is not None
        return order_view(
            order,
            await repo.lines_of(session, order_id),
            await repo.history_of(session, order_id),
            await invoicing_repo.credit_notes_of(session, order_id),
        )


async def get_order(deps: Deps, customer_id: str, order_id: str) -> OrderOut:
    async with deps.db.read() as session:
        order = await repo.customer_order(session, customer_id, order_id)
        if order is None:  # someone else's order looks exactly like a missing one
            raise NotFound("There is no such order.")
        return order_view(
            order,
            await repo.lines_of(session, order_id),
            await repo.history_of(session, order_id),
            await invoicing_repo.credit_notes_of(session, order_id),
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
            image_url=image_url,
            created_at=o.created_at,
            placed_at=o.placed_at,
        )
        for o, count, image_url in rows
    ]
