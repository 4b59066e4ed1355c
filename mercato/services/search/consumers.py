"""Search is fed by catalog's events only: thin handlers over the index (never catalog's database).

The handlers of a batch of events stage their changes; the index applies them all with one commit just
before the consumer's transaction (with the inbox rows) commits — so a crash in between repeats the
batch, which is harmless: applying a snapshot is idempotent and ordered by its `updated_at` inside the
index, so a redelivered or late event can't regress a product.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import Event, InventoryChanged, ProductCreated, ProductDeleted, ProductUpdated
from mercato.platform.consumers import HandlerContext, Handlers

# "all": a new search replica builds its index from the whole stream.
handlers = Handlers("search", start="all")


def _stage(context: HandlerContext, event: Event) -> None:
    staged: list[Event] = context.session.info.setdefault("search_changes", [])
    staged.append(event)
    index = context.app.state.index

    async def apply_staged() -> None:
        await asyncio.to_thread(index.apply_many, staged)

    context.before_commit("search-index", apply_staged)


@handlers.on(ProductCreated, ProductUpdated)
async def index_product(
    session: AsyncSession, event: ProductCreated | ProductUpdated, context: HandlerContext
) -> None:
    _stage(context, event)


@handlers.on(ProductDeleted)
async def remove_product(session: AsyncSession, event: ProductDeleted, context: HandlerContext) -> None:
    _stage(context, event)


@handlers.on(InventoryChanged)
async def update_availability(
    session: AsyncSession, event: InventoryChanged, context: HandlerContext
) -> None:
    _stage(context, event)
