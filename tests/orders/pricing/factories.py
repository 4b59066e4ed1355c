"""A pricing configuration like the seeded one (migration 0009), small enough to read in a test."""

from __future__ import annotations

from decimal import Decimal

from mercato.services.orders.pricing.config import (
    Band,
    PricingConfig,
    ShippingMethod,
    ShippingZone,
    TaxRate,
)
from mercato.services.orders.pricing.quote import Market

EU = Market(id="eu", currency="EUR", prices_include_tax=True)
UK = Market(id="uk", currency="GBP", prices_include_tax=True)
US = Market(id="us", currency="USD", prices_include_tax=False)


def _vat(country: str, standard: str, reduced: str) -> list[TaxRate]:
    return [
        TaxRate(country, "", "standard", Decimal(standard), "VAT", True),
        TaxRate(country, "", "reduced", Decimal(reduced), "VAT", True),
    ]


def method(
    *,
    id: str,
    zone_id: str,
    currency: str,
    kind: str = "standard",
    amount: int = 0,
    rate_type: str = "flat",
    bands: tuple[tuple[int | None, int], ...] = (),
    free_from: int | None = None,
    position: int = 0,
) -> ShippingMethod:
    return ShippingMethod(
        id=id,
        zone_id=zone_id,
        name=id.replace("_", " "),
        kind=kind,  # type: ignore[arg-type]
        currency=currency,
        rate_type=rate_type,  # type: ignore[arg-type]
        amount=amount,
        bands=tuple(Band(up_to, charge) for up_to, charge in bands),
        free_from=free_from,
        min_days=1,
        max_days=3,
        position=position,
    )


def pricing_config(*, us_nexus: frozenset[str] = frozenset({"NY", "CA", "TX"})) -> PricingConfig:
    return PricingConfig.of(
        tax_rates=[
            *_vat("DE", "19", "7"),
            *_vat("FR", "20", "5.5"),
            *_vat("GB", "20", "5"),
            TaxRate("US", "NY", "standard", Decimal("4"), "Sales tax (NY)", True),
            TaxRate("US", "CA", "standard", Decimal("7.25"), "Sales tax (CA)", False),
            TaxRate("US", "FL", "standard", Decimal("6"), "Sales tax (FL)", False),
        ],
        zones=[
            ShippingZone("shz_eu", "EU", frozenset({"DE", "FR"})),
            ShippingZone("shz_berlin", "Berlin", frozenset({"DE"})),
            ShippingZone("shz_uk", "UK", frozenset({"GB"})),
            ShippingZone("shz_highlands", "Highlands", frozenset({"GB"}), ("IV*", "KW*")),
            ShippingZone("shz_us", "US", frozenset({"US"})),
        ],
        methods=[
            method(id="eu_standard", zone_id="shz_eu", currency="EUR", amount=495, free_from=5000),
            method(
                id="eu_express", zone_id="shz_eu", currency="EUR", kind="express", amount=1295, position=1
            ),
            method(id="collect", zone_id="shz_berlin", currency="EUR", kind="click_and_collect", position=2),
            method(id="uk_standard", zone_id="shz_uk", currency="GBP", amount=395, free_from=4000),
            method(id="uk_highlands", zone_id="shz_highlands", currency="GBP", amount=1495, position=3),
            method(
                id="us_standard",
                zone_id="shz_us",
                currency="USD",
                rate_type="value",
                bands=((4999, 799), (9999, 499)),
                free_from=10000,
            ),
            method(
                id="us_express",
                zone_id="shz_us",
                currency="USD",
                kind="express",
                rate_type="weight",
                bands=((1000, 1499), (5000, 2499)),
                position=1,
            ),
        ],
        us_nexus=us_nexus,
    )
