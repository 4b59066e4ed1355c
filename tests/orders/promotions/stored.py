"""Promotions written straight into the orders database, for the cart's and checkout's tests (the back
office's API has its own: test_admin.py)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from mercato.services.orders.promotions.models import (
    PromotionBuyerUses,
    PromotionCode,
    PromotionRedemption,
    PromotionRow,
)

_counter = itertools.count(1)


async def add_promotion(
    app: FastAPI,
    *,
    name: str = "Ten off",
    trigger: str = "code",
    action: dict[str, Any] | None = None,
    conditions: dict[str, Any] | None = None,
    codes: Sequence[str] = (),
    single_use_codes: Sequence[str] = (),
    usage_limit: int | None = None,
    per_customer_limit: int | None = None,
    used: int = 0,
    active: bool = True,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    priority: int = 0,
    combines: bool = True,
) -> str:
    """A promotion with its shared `codes` and `single_use_codes` (usage limit 1 each); 10% off the lines
    unless `action` says otherwise. The app's cache is refreshed, as the back office's writes do."""
    promotion_id = f"prm_test{next(_counter):04d}"
    at = datetime.now(UTC)
    async with app.state.db.unit_of_work() as session:
        session.add(
            PromotionRow(
                id=promotion_id,
                name=name,
                description="",
                trigger=trigger,
                active=active,
                starts_at=starts_at,
                ends_at=ends_at,
                priority=priority,
                combines=combines,
                conditions=conditions or {},
                action=action or {"type": "percentage", "target": "lines", "percent": "10"},
                usage_limit=usage_limit,
                per_customer_limit=per_customer_limit,
                used=used,
                created_at=at,
                updated_at=at,
            )
        )
        await session.flush()
        for code, limit in [(c, None) for c in codes] + [(c, 1) for c in single_use_codes]:
            session.add(
                PromotionCode(code=code, promotion_id=promotion_id, usage_limit=limit, used=0, created_at=at)
            )
    await app.state.deps.promotions.refresh(app.state.db)
    return promotion_id


async def counters(app: FastAPI, promotion_id: str) -> dict[str, Any]:
    """The promotion's use counter, its codes', its buyers' and its redemptions (order ids)."""
    async with app.state.db.read() as session:
        promotion = await session.get(PromotionRow, promotion_id, populate_existing=True)
        assert promotion is not None
        codes = await session.execute(
            select(PromotionCode.code, PromotionCode.used).where(PromotionCode.promotion_id == promotion_id)
        )
        buyers = await session.execute(
            select(PromotionBuyerUses.buyer_key, PromotionBuyerUses.used).where(
                PromotionBuyerUses.promotion_id == promotion_id
            )
        )
        redeemed = await session.scalars(
            select(PromotionRedemption.order_id).where(PromotionRedemption.promotion_id == promotion_id)
        )
        return {
            "used": promotion.used,
            "codes": dict(codes.all()),
            "buyers": dict(buyers.all()),
            "orders": sorted(redeemed),
        }
