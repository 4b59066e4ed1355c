"""Cart promotions and lines small enough to read in a table (the shapes of promotions/rules.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from mercato.services.orders.pricing.quote import QuoteLine
from mercato.services.orders.promotions.rules import (
    Action,
    Conditions,
    Offer,
    Offers,
    Promotion,
    Refused,
    Tier,
)

AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def promotion(
    *,
    id: str,
    type: str,
    name: str | None = None,
    trigger: str = "automatic",
    priority: int = 0,
    combines: bool = True,
    target: str = "lines",
    percent: str | None = None,
    amounts: Mapping[str, int] | None = None,
    buy: int = 0,
    get: int = 0,
    tiers: Sequence[tuple[str, int, Mapping[str, int] | None]] = (),
    markets: Sequence[str] = (),
    skus: Sequence[str] = (),
    product_ids: Sequence[str] = (),
    category_ids: Sequence[str] = (),
    min_subtotal: Mapping[str, int] | None = None,
    min_quantity: int = 0,
    first_order: bool = False,
    active: bool = True,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Promotion:
    return Promotion(
        id=id,
        name=name or id,
        trigger=trigger,  # type: ignore[arg-type]
        conditions=Conditions(
            markets=tuple(markets),
            product_ids=tuple(product_ids),
            category_ids=tuple(category_ids),
            skus=tuple(skus),
            min_subtotal=dict(min_subtotal or {}),
            min_quantity=min_quantity,
            first_order=first_order,
        ),
        action=Action(
            type=type,  # type: ignore[arg-type]
            target=target,  # type: ignore[arg-type]
            percent=Decimal(percent) if percent is not None else None,
            amounts=dict(amounts or {}),
            buy=buy,
            get=get,
            tiers=tuple(
                Tier(percent=Decimal(p), min_quantity=q, min_subtotal=dict(s or {})) for p, q, s in tiers
            ),
        ),
        active=active,
        starts_at=starts_at,
        ends_at=ends_at,
        priority=priority,
        combines=combines,
    )


def offers(
    *promotions: Promotion,
    codes: Mapping[str, Promotion] | None = None,
    refused: Sequence[Refused] = (),
    first_order: bool = True,
    at: datetime = AT,
) -> Offers:
    """Automatic `promotions`, plus `codes` (code → its promotion) and `refused` codes, entered in that
    order."""
    codes = dict(codes or {})
    return Offers(
        at=at,
        offers=(*(Offer(p) for p in promotions), *(Offer(p, code) for code, p in codes.items())),
        refused=tuple(refused),
        codes=(*codes, *(r.code for r in refused)),
        first_order=first_order,
    )


def line(
    sku: str,
    unit_price: int,
    quantity: int,
    *,
    tax_class: str = "standard",
    product_id: str | None = None,
    category_ids: Sequence[str] = (),
    kind: str = "physical",
) -> QuoteLine:
    return QuoteLine(
        sku=sku,
        unit_price=unit_price,
        quantity=quantity,
        tax_class=tax_class,
        weight_grams=0 if kind == "gift_card" else 600,
        product_id=product_id or f"prod_{sku.lower()}",
        category_ids=tuple(category_ids),
        kind=kind,
    )
