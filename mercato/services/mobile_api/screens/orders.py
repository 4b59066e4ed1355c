"""The order history and an order's screen: its lines, the totals and tax lines as stored at checkout, the
shipping method, both addresses, the state timeline, tracking, the invoice and credit notes."""

from __future__ import annotations

from mercato.platform.auth import Shopper
from mercato.services.mobile_api.clients import Order, Services
from mercato.services.mobile_api.schemas import (
    CreditNoteOut,
    OrderCard,
    OrderLineOut,
    OrderOut,
    OrdersOut,
    TenderOut,
    TimelineEntry,
    TrackingOut,
)
from mercato.services.mobile_api.screens.shopping import (
    address_out,
    discounts_out,
    market_out,
    method_out,
    tax_lines_out,
    totals_out,
)


async def history(services: Services, shopper: Shopper, cursor: str | None, limit: int) -> OrdersOut:
    params: list[tuple[str, str | int]] = [("limit", limit)]
    if cursor:
        params.append(("cursor", cursor))
    summaries, next_cursor = await services.orders.orders(shopper, params)
    return OrdersOut(
        items=[
            OrderCard(
                id=s.id,
                number=s.number,
                status=s.state,
                placed_at=s.placed_at or s.created_at,
                total=s.total,
                item_count=s.item_count,
                image=s.image_url,
            )
            for s in summaries
        ],
        next_cursor=next_cursor,
    )


def order_screen(order: Order) -> OrderOut:
    tracking = None
    if order.carrier and order.tracking_number:
        tracking = TrackingOut(carrier=order.carrier, number=order.tracking_number, url=order.tracking_url)
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.state,
        placed_at=order.placed_at or order.created_at,
        market=market_out(order.market) if order.market else None,
        totals=totals_out(order.totals),
        tax_lines=tax_lines_out(order.tax_lines),
        lines=[
            OrderLineOut(
                sku=line.sku,
                name=line.name,
                attributes=line.attributes,
                image=line.image_url,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
                tax=line.tax,
                tax_rate=line.tax_rate,
            )
            for line in order.lines
        ],
        shipping_address=address_out(order.shipping_address),
        billing_address=address_out(order.billing_address),
        shipping_method=method_out(order.shipping_method) if order.shipping_method else None,
        timeline=[TimelineEntry(status=change.state, at=change.at) for change in order.history],
        tracking=tracking,
        can_cancel=order.can_cancel,
        invoice_url=order.invoice_url,
        credit_notes=[
            CreditNoteOut(number=note.number, url=note.url, amount=note.amount) for note in order.credit_notes
        ],
        promotions=discounts_out(order.promotions),
        tenders=[TenderOut(kind=t.kind, last4=t.last4, amount=t.amount) for t in order.tenders],
    )


async def order(services: Services, shopper: Shopper, order_id: str) -> OrderOut:
    return order_screen(await services.orders.order(shopper, order_id))
