"""The order history and an order's screen: its lines, the state timeline, tracking."""

from __future__ import annotations

from mercato.platform.auth import Shopper
from mercato.services.mobile_api.clients import Order, Services
from mercato.services.mobile_api.schemas import (
    OrderCard,
    OrderLineOut,
    OrderOut,
    OrdersOut,
    TimelineEntry,
    TrackingOut,
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
        total=order.total,
        subtotal=order.subtotal,
        shipping=order.shipping,
        lines=[
            OrderLineOut(
                sku=line.sku,
                name=line.name,
                attributes=line.attributes,
                image=line.image_url,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
        shipping_address=order.shipping_address,
        timeline=[TimelineEntry(status=change.state, at=change.at) for change in order.history],
        tracking=tracking,
        can_cancel=order.can_cancel,
    )


async def order(services: Services, shopper: Shopper, order_id: str) -> OrderOut:
    return order_screen(await services.orders.order(shopper, order_id))
