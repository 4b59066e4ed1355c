"""The back office's queries and writes of promotions, their shared codes and their code batches (the
cart's and the checkout's are in promotions/repository.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.orders.models import Order, OrderLine
from mercato.services.orders.promotions.models import (
    PromotionCode,
    PromotionCodeBatch,
    PromotionRedemption,
    PromotionRow,
)


async def promotion(session: AsyncSession, promotion_id: str) -> PromotionRow | None:
    return await session.get(PromotionRow, promotion_id)


async def promotions(
    session: AsyncSession, *, trigger: str | None, active: bool | None, before: str | None, limit: int
) -> list[PromotionRow]:
    """Newest first (ids rise with time), from before `before`."""
    query = select(PromotionRow).order_by(PromotionRow.id.desc()).limit(limit)
    if trigger:
        query = query.where(PromotionRow.trigger == trigger)
    if active is not None:
        query = query.where(PromotionRow.active == active)
    if before:
        query = query.where(PromotionRow.id < before)
    return list(await session.scalars(query))


async def shared_codes(session: AsyncSession, promotion_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(PromotionCode.promotion_id, PromotionCode.code)
        .where(PromotionCode.promotion_id.in_(promotion_ids), PromotionCode.batch_id.is_(None))
        .order_by(PromotionCode.code)
    )
    for promotion_id, code in rows:
        found[promotion_id].append(code)
    return found


async def batches(session: AsyncSession, promotion_ids: Sequence[str]) -> dict[str, list[PromotionCodeBatch]]:
    found: dict[str, list[PromotionCodeBatch]] = defaultdict(list)
    rows = await session.scalars(
        select(PromotionCodeBatch)
        .where(PromotionCodeBatch.promotion_id.in_(promotion_ids))
        .order_by(PromotionCodeBatch.id)
    )
    for row in rows:
        found[row.promotion_id].append(row)
    return found


async def codes_taken(session: AsyncSession, codes: Sequence[str], *, but_by: str | None) -> set[str]:
    """Which of `codes` exist already, other than `but_by`'s shared ones."""
    if not codes:
        return set()
    query = select(PromotionCode.code).where(PromotionCode.code.in_(codes))
    if but_by:
        query = query.where(or_(PromotionCode.promotion_id != but_by, PromotionCode.batch_id.is_not(None)))
    return set(await session.scalars(query))


async def replace_shared_codes(
    session: AsyncSession, promotion_id: str, codes: Sequence[str], *, at: datetime
) -> None:
    """Its shared codes become `codes`: those no longer listed go (what orders used them keep the code)."""
    await session.execute(
        delete(PromotionCode).where(
            PromotionCode.promotion_id == promotion_id,
            PromotionCode.batch_id.is_(None),
            PromotionCode.code.not_in(codes),
        )
    )
    if codes:
        await session.execute(
            insert_or_merge(session, PromotionCode)
            .values(
                [
                    {"code": c, "promotion_id": promotion_id, "batch_id": None, "usage_limit": None}
                    | {"used": 0, "created_at": at}
                    for c in codes
                ]
            )
            .on_conflict_do_nothing()
        )


async def sales(session: AsyncSession, *, at: datetime) -> list[PromotionRow]:
    """Every sale catalog should know: active, and not ended at `at` (current and scheduled)."""
    return list(
        await session.scalars(
            select(PromotionRow)
            .where(
                PromotionRow.trigger == "sale",
                PromotionRow.active.is_(True),
                or_(PromotionRow.ends_at.is_(None), PromotionRow.ends_at > at),
            )
            .order_by(PromotionRow.id)
        )
    )


async def redeemed(session: AsyncSession, promotion_id: str) -> bool:
    found = await session.scalar(
        select(PromotionRedemption.order_id).where(PromotionRedemption.promotion_id == promotion_id).limit(1)
    )
    return found is not None


# --- code batches ---------------------------------------------------------------------------------------


async def batch(session: AsyncSession, promotion_id: str, batch_id: str) -> PromotionCodeBatch | None:
    row = await session.get(PromotionCodeBatch, batch_id)
    return row if row is not None and row.promotion_id == promotion_id else None


async def running_batches(session: AsyncSession) -> list[str]:
    return list(
        await session.scalars(select(PromotionCodeBatch.id).where(PromotionCodeBatch.state == "running"))
    )


async def claim_batch(session: AsyncSession, batch_id: str) -> PromotionCodeBatch | None:
    """The batch, locked for this transaction (so that two runners of it take turns, never overshooting
    `requested`); None unless it is still running."""
    row = await session.scalar(
        select(PromotionCodeBatch)
        .where(PromotionCodeBatch.id == batch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row if row is not None and row.state == "running" else None


async def insert_codes(
    session: AsyncSession, codes: Sequence[str], *, promotion_id: str, batch_id: str, at: datetime
) -> int:
    """Insert the single-use codes not taken yet; how many were."""
    inserted = await session.scalars(
        insert_or_merge(session, PromotionCode)
        .values(
            [
                {"code": c, "promotion_id": promotion_id, "batch_id": batch_id, "usage_limit": 1}
                | {"used": 0, "created_at": at}
                for c in codes
            ]
        )
        .on_conflict_do_nothing()
        .returning(PromotionCode.code)
    )
    return len(list(inserted))


async def finish_batch(session: AsyncSession, batch_id: str, *, state: str, at: datetime) -> None:
    await session.execute(
        update(PromotionCodeBatch)
        .where(PromotionCodeBatch.id == batch_id, PromotionCodeBatch.state == "running")
        .values(state=state, finished_at=at)
    )


async def batch_codes(
    session: AsyncSession, promotion_id: str, batch_id: str, *, after: str, limit: int
) -> list[tuple[str, int]]:
    """(code, used) of a batch, by code, after `after`."""
    rows = await session.execute(
        select(PromotionCode.code, PromotionCode.used)
        .where(
            PromotionCode.promotion_id == promotion_id,
            PromotionCode.batch_id == batch_id,
            PromotionCode.code > after,
        )
        .order_by(PromotionCode.code)
        .limit(limit)
    )
    return [(code, used) for code, used in rows]


# --- the report -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeemed:
    promotion_id: str
    name: str | None  # None: the promotion is gone
    trigger: str | None
    order_id: str
    currency: str
    total: int
    amount: int


@dataclass(frozen=True)
class SaleLine:
    order_id: str
    currency: str
    total: int
    sale_promotion_id: str | None  # None: sold before order lines named their sale
    sale_name: str | None
    unit_price: int
    list_unit_price: int
    quantity: int


async def redemptions_placed(session: AsyncSession, *, start: datetime, end: datetime) -> list[Redeemed]:
    """The redemptions of the orders placed in [start, end), with the orders' totals."""
    rows = await session.execute(
        select(
            PromotionRedemption.promotion_id,
            PromotionRow.name,
            PromotionRow.trigger,
            PromotionRedemption.order_id,
            Order.currency,
            Order.total,
            PromotionRedemption.amount,
        )
        .join(Order, Order.id == PromotionRedemption.order_id)
        .outerjoin(PromotionRow, PromotionRow.id == PromotionRedemption.promotion_id)
        .where(Order.placed_at >= start, Order.placed_at < end)
    )
    return [Redeemed(*row) for row in rows]


async def sale_lines_placed(session: AsyncSession, *, start: datetime, end: datetime) -> list[SaleLine]:
    """The lines sold below their list price (a sale) in the orders placed in [start, end)."""
    rows = await session.execute(
        select(
            Order.id,
            Order.currency,
            Order.total,
            OrderLine.sale_promotion_id,
            OrderLine.sale_name,
            OrderLine.unit_price,
            OrderLine.list_unit_price,
            OrderLine.quantity,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.placed_at >= start, Order.placed_at < end, OrderLine.list_unit_price.is_not(None))
        .order_by(Order.placed_at, Order.id, OrderLine.sku)
    )
    return [SaleLine(*row) for row in rows]
