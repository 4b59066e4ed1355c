"""What catalog does with other services' events: thin handlers over service.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import OrderStatusChanged
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.catalog import service

handlers = Handlers("catalog")


@handlers.on(OrderStatusChanged)
async def restock_cancelled_order(
    session: AsyncSession, event: OrderStatusChanged, context: HandlerContext
) -> None:
    """A cancelled order's units can be sold again. (A returned order's are not restocked
    automatically: whether returned goods can be resold is for a person to decide.)"""
    if event.to_state == "cancelled":
        await service.restock_cancelled_order(session, event.order_id)
