"""Search is fed by catalog's events only: thin handlers over the index (never catalog's database).

Applying a product snapshot is idempotent and ordered by its `updated_at` in the index itself, so a
redelivered or late event can't regress a product; the inbox keeps the work once besides.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import InventoryChanged, ProductCreated, ProductDeleted, ProductUpdated
from mercato.platform.consumers import HandlerContext, Handlers

# "all": a new search replica builds its index from the whole stream.
handlers = Handlers("search", start="all")


@handlers.on(ProductCreated, ProductUpdated)
async def index_product(
    session: AsyncSession, event: ProductCreated | ProductUpdated, context: HandlerContext
) -> None:
    await asyncio.to_thread(context.app.state.index.apply, event)


@handlers.on(ProductDeleted)
async def remove_product(session: AsyncSession, event: ProductDeleted, context: HandlerContext) -> None:
    await asyncio.to_thread(context.app.state.index.delete, event.product_id, deleted_at=event.deleted_at)


@handlers.on(InventoryChanged)
async def update_availability(
    session: AsyncSession, event: InventoryChanged, context: HandlerContext
) -> None:
    await asyncio.to_thread(context.app.state.index.apply_inventory, event)
