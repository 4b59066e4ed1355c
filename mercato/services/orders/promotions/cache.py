"""Cart promotions kept in memory, like the quote's configuration (pricing/cache.py): a cart view weighs
the automatic ones without a statement.

Loaded when the process starts, reloaded every `pricing_refresh_seconds` by a periodic task, and at once in
the process that changed them (the back office's writes call `refresh`). Another replica sees a change
within that interval. The counters (`used`) read here are only what was last seen: the checkout's
conditional UPDATEs are what enforce the limits (docs/promotions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from mercato.platform.db import Database
from mercato.services.orders.promotions.models import PromotionRow
from mercato.services.orders.promotions.rules import Promotion


def live(promotion: Promotion, at: datetime) -> bool:
    """Active and within its window at `at`."""
    return (
        promotion.active
        and (promotion.starts_at is None or promotion.starts_at <= at)
        and (promotion.ends_at is None or at < promotion.ends_at)
    )


class PromotionsCache:
    def __init__(self) -> None:
        self.by_id: Mapping[str, Promotion] = {}
        self._automatic: tuple[Promotion, ...] = ()

    async def refresh(self, db: Database) -> None:
        async with db.read() as session:
            rows = list(
                await session.scalars(
                    select(PromotionRow).where(PromotionRow.trigger.in_(("automatic", "code")))
                )
            )
        promotions = {row.id: Promotion.parse(row) for row in rows}
        self.by_id = promotions
        self._automatic = tuple(
            sorted(
                (p for p in promotions.values() if p.trigger == "automatic" and p.active),
                key=lambda p: (-p.priority, p.id),
            )
        )

    def automatic(self, at: datetime) -> tuple[Promotion, ...]:
        """The automatic promotions live at `at`, by priority (highest first), then id."""
        return tuple(p for p in self._automatic if live(p, at))

    def get(self, promotion_id: str) -> Promotion | None:
        return self.by_id.get(promotion_id)
