"""A sale price: what a catalogue promotion (mercato.contracts.events.CataloguePromotion) makes a unit
cost. Orders charges it and catalog and search show it, with this one function, so the price on a page is
the price in the cart to the cent (docs/promotions.md).

Per unit: a percentage is rounded half up to the minor unit on each unit's price; a fixed amount is taken
off each unit, never below zero. Where several sales cover a unit the lowest price wins (the higher
priority on a tie).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from mercato.contracts.events import CataloguePromotion


@dataclass(frozen=True)
class Sale:
    promotion_id: str
    name: str
    price: int  # the unit's sale price, in minor units
    ends_at: datetime | None


def covers(
    promotion: CataloguePromotion, *, sku: str, product_id: str, category_ids: Iterable[str], market_id: str
) -> bool:
    """Whether the sale names this unit: its market (or every market), and its SKU, product or one of
    its categories (`category_ids`: the product's category and every one above it); naming none of
    those covers every product."""
    if promotion.markets and market_id not in promotion.markets:
        return False
    if not (promotion.skus or promotion.product_ids or promotion.category_ids):
        return True
    return (
        sku in promotion.skus
        or product_id in promotion.product_ids
        or not set(promotion.category_ids).isdisjoint(category_ids)
    )


def live(promotion: CataloguePromotion, at: datetime) -> bool:
    return (promotion.starts_at is None or promotion.starts_at <= at) and (
        promotion.ends_at is None or at < promotion.ends_at
    )


def discounted(unit_price: int, currency: str, promotion: CataloguePromotion) -> int | None:
    """The unit's price under `promotion`; None where it takes nothing off in this currency."""
    if promotion.percent is not None:
        exact = Decimal(unit_price) * Decimal(promotion.percent) / 100
        off = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        off = promotion.amounts.get(currency, 0)
    off = max(0, min(off, unit_price))
    return unit_price - off if off else None


def sale_price(
    unit_price: int,
    *,
    currency: str,
    sku: str,
    product_id: str,
    category_ids: Iterable[str],
    market_id: str,
    promotions: Iterable[CataloguePromotion],
    at: datetime,
) -> Sale | None:
    """The best sale for one unit at `at`: the lowest price any live catalogue promotion covering it
    gives (the higher priority, then the smaller id, on a tie); None when none does."""
    categories = tuple(category_ids)
    best: tuple[int, int, str] | None = None
    found: Sale | None = None
    for promotion in promotions:
        if not live(promotion, at) or not covers(
            promotion, sku=sku, product_id=product_id, category_ids=categories, market_id=market_id
        ):
            continue
        price = discounted(unit_price, currency, promotion)
        if price is None:
            continue
        rank = (price, -promotion.priority, promotion.id)
        if best is None or rank < best:
            best = rank
            found = Sale(promotion.id, promotion.name, price, promotion.ends_at)
    return found
