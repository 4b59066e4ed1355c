"""Every query of promotions in the cart and at checkout: the cart's codes looked up with their
promotions and counters, the first-order check, and the usage counters a checkout takes and a failed
one gives back (docs/promotions.md, "Usage limits").

The lookups are Core statements, so they run on a session or on a single-statement connection
(`Database.read_one`) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.orders.models import Cart, Order
from mercato.services.orders.promotions.models import (
    PromotionBuyerUses,
    PromotionCode,
    PromotionRedemption,
    PromotionRow,
)

Executor = AsyncSession | AsyncConnection


@dataclass(frozen=True)
class FoundCode:
    """A code of the cart as the database knows it: its promotion, and the counters its limits are
    weighed against (`buyer_used`: this buyer's uses of the promotion; 0 when unknown or none)."""

    code: str
    usage_limit: int | None
    used: int
    promotion: Any  # a row with PromotionRow's columns (rules.Promotion.parse reads it)
    buyer_used: int


_PROMOTION_COLUMNS = [column for column in PromotionRow.__table__.columns]


async def codes(executor: Executor, codes: Sequence[str], buyer_key: str | None) -> list[FoundCode]:
    """The cart's codes that exist, with their promotions and this buyer's uses: one statement."""
    if not codes:
        return []
    buyer_used = PromotionBuyerUses.used if buyer_key else None
    query = (
        select(
            PromotionCode.code,
            PromotionCode.usage_limit.label("code_usage_limit"),
            PromotionCode.used.label("code_used"),
            *_PROMOTION_COLUMNS,
            *([buyer_used.label("buyer_used")] if buyer_used is not None else []),
        )
        .join(PromotionRow, PromotionRow.id == PromotionCode.promotion_id)
        .where(PromotionCode.code.in_(list(codes)))
    )
    if buyer_key:
        query = query.outerjoin(
            PromotionBuyerUses,
            and_(
                PromotionBuyerUses.promotion_id == PromotionCode.promotion_id,
                PromotionBuyerUses.buyer_key == buyer_key,
            ),
        )
    rows = (await executor.execute(query)).all()
    return [
        FoundCode(
            code=row.code,
            usage_limit=row.code_usage_limit,
            used=row.code_used,
            promotion=row,
            buyer_used=(row.buyer_used or 0) if buyer_key else 0,
        )
        for row in rows
    ]


async def buyer_uses(executor: Executor, promotion_ids: Sequence[str], buyer_key: str) -> dict[str, int]:
    """How often this buyer used each of these promotions (pending checkouts included)."""
    rows = await executor.execute(
        select(PromotionBuyerUses.promotion_id, PromotionBuyerUses.used).where(
            PromotionBuyerUses.promotion_id.in_(list(promotion_ids)),
            PromotionBuyerUses.buyer_key == buyer_key,
        )
    )
    return {promotion_id: used for promotion_id, used in rows}


async def has_placed_order(
    executor: Executor, *, customer_id: str | None = None, email_index: str | None = None
) -> bool:
    """Whether the buyer (an account, or a guest by e-mail) has an order placed already."""
    who = Order.customer_id == customer_id if customer_id is not None else Order.email_index == email_index
    return bool(await executor.scalar(select(exists().where(who, Order.placed_at.is_not(None)))))


# --- usage: taken by the checkout's pending order, given back if it fails ---------------------------


async def take_promotion_use(session: AsyncSession, promotion_id: str) -> bool:
    """One use of the promotion, if its limit allows (one conditional UPDATE: concurrent checkouts queue
    on the row, and each re-checks the limit against the others' committed uses)."""
    taken = await session.execute(
        update(PromotionRow)
        .where(
            PromotionRow.id == promotion_id,
            PromotionRow.usage_limit.is_(None) | (PromotionRow.used < PromotionRow.usage_limit),
        )
        .values(used=PromotionRow.used + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


async def take_code_use(session: AsyncSession, code: str) -> bool:
    """One use of a code that has its own limit (a generated single-use code)."""
    taken = await session.execute(
        update(PromotionCode)
        .where(
            PromotionCode.code == code,
            PromotionCode.usage_limit.is_(None) | (PromotionCode.used < PromotionCode.usage_limit),
        )
        .values(used=PromotionCode.used + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


async def take_buyer_use(session: AsyncSession, promotion_id: str, buyer_key: str, limit: int) -> bool:
    """One use of the promotion by this buyer, if fewer than `limit` so far (one conditional upsert)."""
    statement = insert_or_merge(session, PromotionBuyerUses).values(
        promotion_id=promotion_id, buyer_key=buyer_key, used=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[PromotionBuyerUses.promotion_id, PromotionBuyerUses.buyer_key],
        set_={"used": PromotionBuyerUses.used + 1},
        where=PromotionBuyerUses.used < limit,
    ).returning(PromotionBuyerUses.used)
    return (await session.execute(statement)).first() is not None


async def add_redemptions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """The promotions an order used (one INSERT for all of them)."""
    await session.execute(insert_or_merge(session, PromotionRedemption).values(list(rows)))


async def remove_redemptions(session: AsyncSession, order_id: str) -> list[tuple[str, str | None, str]]:
    """Delete a failed order's redemptions: (promotion id, code, buyer key) of each."""
    removed = await session.execute(
        delete(PromotionRedemption)
        .where(PromotionRedemption.order_id == order_id)
        .returning(PromotionRedemption.promotion_id, PromotionRedemption.code, PromotionRedemption.buyer_key)
    )
    return [(promotion_id, code, buyer_key) for promotion_id, code, buyer_key in removed]


async def give_back_promotion_use(session: AsyncSession, promotion_id: str) -> None:
    await session.execute(
        update(PromotionRow)
        .where(PromotionRow.id == promotion_id, PromotionRow.used > 0)
        .values(used=PromotionRow.used - 1)
        .execution_options(synchronize_session=False)
    )


async def give_back_code_use(session: AsyncSession, code: str) -> None:
    """Only a code with its own limit counts its uses (a shared code's are the promotion's)."""
    await session.execute(
        update(PromotionCode)
        .where(PromotionCode.code == code, PromotionCode.usage_limit.is_not(None), PromotionCode.used > 0)
        .values(used=PromotionCode.used - 1)
        .execution_options(synchronize_session=False)
    )


async def give_back_buyer_use(session: AsyncSession, promotion_id: str, buyer_key: str) -> None:
    await session.execute(
        update(PromotionBuyerUses)
        .where(
            PromotionBuyerUses.promotion_id == promotion_id,
            PromotionBuyerUses.buyer_key == buyer_key,
            PromotionBuyerUses.used > 0,
        )
        .values(used=PromotionBuyerUses.used - 1)
        .execution_options(synchronize_session=False)
    )


async def remember_guest_email(session: AsyncSession, cart_id: str, email: str) -> None:
    """A guest's e-mail address kept on the cart (encrypted), so its quote weighs what that buyer may use
    (per-customer limits, first orders) before the next checkout."""
    await session.execute(update(Cart).where(Cart.id == cart_id).values(email=email))
