"""What a variant costs now: its list price (`variant_prices`), or less while a sale covers it.

Sales are orders' catalogue promotions (docs/promotions.md, "Sales"); catalog keeps the newest set it
was told of (`models.CataloguePromotions`, `sales.py`) and prices with the one sale-price function,
`mercato.contracts.promotions.sale_price`, so a page, a list entry, search and the cart agree to the cent.
A gift card is never on sale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mercato.contracts.events import CataloguePromotion
from mercato.contracts.money import Money
from mercato.contracts.promotions import Sale, sale_price

GIFT_CARD = "gift_card"
PHYSICAL = "physical"
KINDS = (PHYSICAL, GIFT_CARD)


@dataclass(frozen=True)
class Priced:
    """A unit's price now, and while on sale its list price and the sale."""

    price: Money
    list_price: Money | None = None
    sale: Sale | None = None


@dataclass(frozen=True)
class Sales:
    """The sales catalog knows of, as they stand at `at`."""

    promotions: tuple[CataloguePromotion, ...]
    at: datetime

    def price(
        self,
        amount: int,
        *,
        currency: str,
        sku: str,
        product_id: str,
        category_ids: Sequence[str],
        market_id: str,
        kind: str,
    ) -> Priced:
        listed = Money(amount=amount, currency=currency)
        if kind == GIFT_CARD or not self.promotions:
            return Priced(listed)
        sale = sale_price(
            amount,
            currency=currency,
            sku=sku,
            product_id=product_id,
            category_ids=category_ids,
            market_id=market_id,
            promotions=self.promotions,
            at=self.at,
        )
        if sale is None:
            return Priced(listed)
        return Priced(Money(amount=sale.price, currency=currency), listed, sale)


def parse(rows: Iterable[dict[str, Any]] | None) -> tuple[CataloguePromotion, ...]:
    return tuple(CataloguePromotion.model_validate(row) for row in rows or ())


def boundaries(promotions: Iterable[CataloguePromotion]) -> set[datetime]:
    """Every moment a sale starts or ends."""
    return {moment for p in promotions for moment in (p.starts_at, p.ends_at) if moment is not None}


def next_boundary(promotions: Iterable[CataloguePromotion], after: datetime) -> datetime | None:
    """The first moment after `after` when some sale starts or ends: the documents' next flip."""
    return min((moment for moment in boundaries(promotions) if moment > after), default=None)


@dataclass(frozen=True)
class Scope:
    """The products some sales can touch: every product, or those named by id, SKU or category (with
    everything under it)."""

    everything: bool = False
    product_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.product_ids or self.category_ids or self.skus)


def scope(promotions: Iterable[CataloguePromotion]) -> Scope:
    promotions = list(promotions)
    return Scope(
        everything=any(not (p.product_ids or p.category_ids or p.skus) for p in promotions),
        product_ids=frozenset(i for p in promotions for i in p.product_ids),
        category_ids=frozenset(i for p in promotions for i in p.category_ids),
        skus=frozenset(i for p in promotions for i in p.skus),
    )


def changed(old: Iterable[CataloguePromotion], new: Iterable[CataloguePromotion]) -> list[CataloguePromotion]:
    """The sales that differ between two sets (added, removed, or edited: both versions)."""
    before = {p.model_dump_json(): p for p in old}
    after = {p.model_dump_json(): p for p in new}
    return [p for key, p in (before | after).items() if (key in before) != (key in after)]
