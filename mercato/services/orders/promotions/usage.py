"""Usage limits under concurrency (docs/promotions.md, "Usage limits"): the checkout's pending order takes
one use of each promotion it applied in the transaction that writes it — conditional UPDATEs that
concurrent checkouts queue on, so the last use of a code is won exactly once — and a checkout that fails
gives them back in the transaction that fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import Conflict
from mercato.services.orders.models import Order
from mercato.services.orders.promotions import repository as repo
from mercato.services.orders.promotions.offers import CartOffers
from mercato.services.orders.promotions.rules import AppliedDiscount, Refused


def unavailable(*, code: str | None, name: str, already_used: bool = False) -> Conflict:
    """The answer to a checkout that lost the race for a use (or found it gone): nothing was charged, and
    the cart now shows the code rejected, with the total without it."""
    what = f"The code {code}" if code else f"The promotion “{name}”"
    detail = (
        f"{what} was used as often as it may be by you already; your cart shows the new total."
        if already_used
        else f"{what} was just used up; your cart shows the new total."
    )
    return Conflict(
        f"{detail} You have not been charged.", slug="promotion-unavailable", code=code, promotion=name
    )


def refused_for_usage(offers: CartOffers) -> Refused | None:
    """A code of the cart refused at checkout for its usage (used up, or by this buyer): the checkout is
    refused rather than charged without the discount the shopper expects."""
    return next((r for r in offers.offers.refused if r.reason in ("usage-exhausted", "already-used")), None)


async def reserve(
    session: AsyncSession,
    order: Order,
    discounts: Sequence[AppliedDiscount],
    offers: CartOffers,
    at: datetime,
) -> None:
    """Take a use of each applied promotion (and of its code, and the buyer's) for `order`, and record its
    redemptions; raises 409 promotion-unavailable, rolling the whole transaction back, if one is gone."""
    if not discounts:
        return
    buyer_key = order.customer_id or order.email_index or order.cart_id or ""
    for discount in discounts:
        promotion = offers.promotion(discount.promotion_id)
        if not await repo.take_promotion_use(session, discount.promotion_id):
            raise unavailable(code=discount.code, name=discount.name)
        if discount.code in offers.limited_codes and not await repo.take_code_use(session, discount.code):
            raise unavailable(code=discount.code, name=discount.name)
        limit = promotion.per_customer_limit if promotion else None
        if limit is not None and (
            limit < 1 or not await repo.take_buyer_use(session, discount.promotion_id, buyer_key, limit)
        ):
            raise unavailable(code=discount.code, name=discount.name, already_used=True)
    await repo.add_redemptions(
        session,
        [
            {
                "order_id": order.id,
                "promotion_id": d.promotion_id,
                "code": d.code,
                "buyer_key": buyer_key,
                "amount": d.amount,
                "currency": order.currency,
                "created_at": at,
            }
            for d in discounts
        ],
    )


async def release(session: AsyncSession, order: Order) -> None:
    """Give back what a failing order took (no statement for an order without promotions)."""
    if not order.promotions:
        return
    for promotion_id, code, buyer_key in await repo.remove_redemptions(session, order.id):
        await repo.give_back_promotion_use(session, promotion_id)
        if code is not None:
            await repo.give_back_code_use(session, code)
        await repo.give_back_buyer_use(session, promotion_id, buyer_key)
