"""What catalog does with other services' events: thin handlers over service.py and sales.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CataloguePromotionsChanged, OrderStatusChanged
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.catalog import sales, service

handlers = Handlers("catalog")


@handlers.on(OrderStatusChanged)
async def restock_cancelled_order(
    session: AsyncSession, event: OrderStatusChanged, context: HandlerContext
) -> None:
    """A cancelled order's units can be sold again. (A returned order's are not restocked
    automatically: whether returned goods can be resold is for a person to decide.)"""
    if event.to_state == "cancelled":
        await service.restock_cancelled_order(session, event.order_id)


@handlers.on(CataloguePromotionsChanged)
async def price_sales(
    session: AsyncSession, event: CataloguePromotionsChanged, context: HandlerContext
) -> None:
    """Orders' sales changed: keep the newest set, re-render and re-publish the products it touches."""
    await sales.store_promotions(
        session, event, now=datetime.now(UTC), image_base_url=context.app.state.settings.image_base_url
    )
