"""Search is fed by catalog's events only: thin handlers over the index (never catalog's database).

The handlers take a batch of events at a time and stage them; the index applies everything a batch
staged with one commit — each product it touched written once, in its last state — just before the
consumer's transaction (with the inbox rows) commits. A crash in between repeats the batch, which is
harmless: applying a snapshot is idempotent and ordered by its `updated_at` inside the index, so a
redelivered or late event can't regress a product.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import Event, InventoryChanged, ProductCreated, ProductDeleted, ProductUpdated
from mercato.platform.handlers import BatchContext, Handlers, Received

# "all": a new search replica builds its index from the whole stream. Every batch costs an index commit
# (about 15 ms of CPU, whatever its size): lingering a quarter of a second after an event gathers the
# stock changes of concurrent checkouts into one commit (anonymous search answers are cached for a
# second anyway: Cache-Control max-age=1).
handlers = Handlers("search", start="all", linger_seconds=0.25)


def _stage(context: BatchContext, received: list[Received[Event]]) -> None:
    staged: list[Event] = context.session.info.setdefault("search_changes", [])
    staged.extend(item.event for item in received)
    index = context.app.state.index

    async def apply_staged() -> None:
        await asyncio.to_thread(index.apply_many, staged)

    context.before_commit("search-index", apply_staged)


@handlers.on_batch(ProductCreated, ProductUpdated)
async def index_product(
    session: AsyncSession, received: list[Received[Event]], context: BatchContext
) -> None:
    _stage(context, received)


@handlers.on_batch(ProductDeleted)
async def remove_product(
    session: AsyncSession, received: list[Received[Event]], context: BatchContext
) -> None:
    _stage(context, received)


@handlers.on_batch(InventoryChanged)
async def update_availability(
    session: AsyncSession, received: list[Received[Event]], context: BatchContext
) -> None:
    _stage(context, received)
