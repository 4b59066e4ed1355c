"""Sales in the catalog: keeping the newest set orders publishes, and keeping the documents (and search,
through ProductUpdated) priced by it as sales start and end.

* A `CataloguePromotionsChanged` (the whole set, as of `changed_at`) replaces the stored set unless an
  event of a later `changed_at` was stored already (events can arrive out of order). The products the
  change touches — those named by a sale that was added, removed or edited, or every active product for a
  sale that names none — are re-rendered and published again (ProductUpdated), in the same transaction.
* A sale's window opens and closes with no event: the set keeps its next boundary (`next_flip_at`, the
  first start or end after the documents were rendered) and `flip_due`, run every
  `sale_flip_seconds` (1 s) by each replica, renders the products of the sales whose boundary passed. An
  idle sweep is one small SELECT. So a page shows a sale's price at most `sale_flip_seconds` plus the time
  to render after it starts — and a cached copy at most `browse_max_age_seconds` more.
* Prices a shopper is charged never wait for any of this: `/internal/variants` and reservations price at
  the moment they are asked (`service.variant_infos`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CataloguePromotion, CataloguePromotionsChanged, ProductUpdated
from mercato.services.catalog import prices
from mercato.services.catalog import repository as repo
from mercato.services.catalog.service import record_product_states


async def _publish(
    session: AsyncSession, promotions: Sequence[CataloguePromotion], *, image_base_url: str
) -> int:
    """Re-render and re-publish the active products these sales can touch; returns how many."""
    scope = prices.scope(promotions)
    if scope.empty:
        return 0
    products = await repo.products_covered(
        session,
        everything=scope.everything,
        product_ids=scope.product_ids,
        category_ids=scope.category_ids,
        skus=scope.skus,
    )
    for start in range(0, len(products), repo.CHUNK):
        await record_product_states(
            session,
            products[start : start + repo.CHUNK],
            event_of=lambda _: ProductUpdated,
            image_base_url=image_base_url,
        )
    return len(products)


async def store_promotions(
    session: AsyncSession, event: CataloguePromotionsChanged, *, now: datetime, image_base_url: str
) -> int | None:
    """Keep the set if it is the newest seen; returns how many products were published again (None: the
    event was older than the set kept)."""
    row = await repo.promotions_row(session)
    if event.changed_at <= row.changed_at:
        return None
    old = prices.parse(row.promotions)
    row.promotions = [p.model_dump(mode="json") for p in event.promotions]
    row.changed_at = event.changed_at
    pending = row.next_flip_at if row.next_flip_at is not None and row.next_flip_at <= now else None
    row.next_flip_at = pending or prices.next_boundary(event.promotions, now)  # a flip due stays due
    await session.flush()  # the documents below are priced with the new set
    return await _publish(session, prices.changed(old, event.promotions), image_base_url=image_base_url)


async def flip_due(session: AsyncSession, now: datetime, *, image_base_url: str) -> int:
    """If a sale started or ended since the documents were rendered, render the products of the sales
    whose window changed; returns how many (0: nothing due, or another replica took it)."""
    row = await repo.due_flip(session, now)
    if row is None or row.next_flip_at is None:
        return 0
    seen = row.next_flip_at
    promotions = prices.parse(row.promotions)
    if not await repo.claim_flip(session, seen=seen, next_flip_at=prices.next_boundary(promotions, now)):
        return 0
    flipped = [p for p in promotions if any(seen <= b <= now for b in prices.boundaries([p]))]
    return await _publish(session, flipped, image_base_url=image_base_url)
