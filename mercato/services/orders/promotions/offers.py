"""What promotions bring to one quote of a cart (`rules.Offers`): the live automatic promotions (from
memory, promotions/cache.py) and the promotions of the cart's codes (looked up in one statement, with
their counters). A code is refused here, before the quote weighs it, when it is unknown, used up, or used
by this buyer as often as allowed; the engine rejects the rest with their reasons (docs/promotions.md).

No statement for a cart without codes, unless a live automatic promotion needs to know the buyer (a
first-order one, or one with a per-customer limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from mercato.platform.db import Database
from mercato.services.orders.promotions import repository as repo
from mercato.services.orders.promotions.cache import PromotionsCache
from mercato.services.orders.promotions.rules import Offer, Offers, Promotion, Refused

MAX_CODES = 5


def normalise(code: str) -> str:
    """As codes are stored: upper case, without spaces."""
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class BuyerId:
    """Whom per-customer limits and the first-order condition count: an account, or a guest by the blind
    index of the e-mail address (unknown before checkout: both are then weighed at checkout)."""

    customer_id: str | None = None
    email_index: str | None = None

    @property
    def key(self) -> str | None:
        return self.customer_id or self.email_index


@dataclass(frozen=True)
class CartOffers:
    offers: Offers
    buyer: BuyerId = field(default_factory=BuyerId)
    limited_codes: frozenset[str] = frozenset()  # codes with their own usage limit (single-use ones)

    def promotion(self, promotion_id: str) -> Promotion | None:
        return next((o.promotion for o in self.offers.offers if o.promotion.id == promotion_id), None)


def used_up(promotion: Promotion) -> bool:
    return promotion.usage_limit is not None and promotion.used >= promotion.usage_limit


def _refusal(found: repo.FoundCode, promotion: Promotion) -> Refused | None:
    if used_up(promotion) or (found.usage_limit is not None and found.used >= found.usage_limit):
        return Refused(
            found.code,
            "usage-exhausted",
            f"The code {found.code} has been used as many times as it can be.",
            promotion.name,
        )
    if promotion.per_customer_limit is not None and found.buyer_used >= promotion.per_customer_limit:
        times = "once" if promotion.per_customer_limit == 1 else f"{promotion.per_customer_limit} times"
        return Refused(
            found.code,
            "already-used",
            f"You have used the code {found.code} already: it can be used {times} per customer.",
            promotion.name,
        )
    return None


def unknown(code: str) -> Refused:
    return Refused(code, "unknown-code", f"There is no code {code}: check it for typos.")


class _Reads:
    """The statements `build` needs, on the caller's session, or on one read transaction opened the first
    time one is needed (none at all for most carts)."""

    def __init__(self, db: Database, executor: repo.Executor | None, stack: AsyncExitStack) -> None:
        self.db, self.executor, self.stack = db, executor, stack

    async def get(self) -> repo.Executor:
        if self.executor is None:
            self.executor = await self.stack.enter_async_context(self.db.read())
        return self.executor


@asynccontextmanager
async def _reads(db: Database, executor: repo.Executor | None) -> AsyncIterator[_Reads]:
    async with AsyncExitStack() as stack:
        yield _Reads(db, executor, stack)


async def build(
    db: Database,
    cache: PromotionsCache,
    codes: Sequence[str],
    buyer: BuyerId,
    at: datetime,
    *,
    executor: repo.Executor | None = None,
) -> CartOffers:
    """The offers for a cart with `codes` (in the order entered), bought by `buyer`, at `at`."""
    automatic = [p for p in cache.automatic(at) if not used_up(p)]
    offers: list[Offer] = []
    refused: list[Refused] = []
    limited: set[str] = set()
    async with _reads(db, executor) as reads:
        found = {f.code: f for f in await repo.codes(await reads.get(), codes, buyer.key)} if codes else {}
        for code in codes:
            if (hit := found.get(code)) is None:
                refused.append(unknown(code))
                continue
            promotion = Promotion.parse(hit.promotion)
            if (refusal := _refusal(hit, promotion)) is not None:
                refused.append(refusal)
                continue
            offers.append(Offer(promotion, code))
            if hit.usage_limit is not None:
                limited.add(code)
        limited_per_buyer = [p.id for p in automatic if p.per_customer_limit is not None]
        if limited_per_buyer and buyer.key:
            uses = await repo.buyer_uses(await reads.get(), limited_per_buyer, buyer.key)
            automatic = [
                p
                for p in automatic
                if p.per_customer_limit is None or uses.get(p.id, 0) < p.per_customer_limit
            ]
        candidates = automatic + [o.promotion for o in offers]
        first_order = True
        if any(p.conditions.first_order for p in candidates) and buyer.key:
            first_order = not await repo.has_placed_order(
                await reads.get(), customer_id=buyer.customer_id, email_index=buyer.email_index
            )
    return CartOffers(
        offers=Offers(
            at=at,
            offers=tuple(Offer(p) for p in automatic) + tuple(offers),
            refused=tuple(refused),
            codes=tuple(codes),
            first_order=first_order,
        ),
        buyer=buyer,
        limited_codes=frozenset(limited),
    )
