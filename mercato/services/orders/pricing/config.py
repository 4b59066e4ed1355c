"""The quote's configuration as plain immutable values: tax rates, shipping zones and their methods. A
snapshot of the tables, read through `cache.py`; the pure quote takes it as an argument."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

TaxClass = Literal["standard", "reduced", "zero"]
MethodKind = Literal["standard", "express", "click_and_collect"]
RateType = Literal["flat", "value", "weight"]


@dataclass(frozen=True)
class TaxRate:
    """A country's (or US state's) rate for a tax class, as a percentage."""

    country: str
    region: str  # a US state's code; "" for the whole country
    tax_class: TaxClass
    rate: Decimal
    label: str
    shipping_taxable: bool


@dataclass(frozen=True)
class Band:
    """Up to and including `up_to` (minor units of order value, or grams), the charge is `amount`;
    `up_to` None: everything above the previous band."""

    up_to: int | None
    amount: int


@dataclass(frozen=True)
class ShippingMethod:
    id: str
    zone_id: str
    name: str
    kind: MethodKind
    currency: str
    rate_type: RateType
    amount: int  # the flat rate; unused for bands
    bands: tuple[Band, ...]
    free_from: int | None  # order value from which it costs nothing
    min_days: int
    max_days: int
    position: int = 0

    def charge(self, *, value: int, weight_grams: int) -> int | None:
        """What it costs for an order worth `value` weighing `weight_grams`; None when no band takes it."""
        if self.free_from is not None and value >= self.free_from:
            return 0
        if self.rate_type == "flat":
            return self.amount
        measure = value if self.rate_type == "value" else weight_grams
        return next((b.amount for b in self.bands if b.up_to is None or measure <= b.up_to), None)


@dataclass(frozen=True)
class ShippingZone:
    id: str
    name: str
    countries: frozenset[str]
    # Postal codes the zone is limited to, as patterns (`10*`, `EC1?`); empty: the whole countries.
    postal_patterns: tuple[str, ...] = ()

    def covers(self, country: str, postal_code: str | None) -> bool:
        if country not in self.countries:
            return False
        if not self.postal_patterns:
            return True
        code = normalise_postal_code(postal_code or "")
        return bool(code) and any(fnmatch.fnmatchcase(code, p) for p in self.postal_patterns)


def normalise_postal_code(code: str) -> str:
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class PricingConfig:
    """Everything the quote reads, indexed for it."""

    tax_rates: Mapping[tuple[str, str, str], TaxRate] = field(default_factory=dict)
    zones: Sequence[ShippingZone] = ()
    methods: Sequence[ShippingMethod] = ()  # active ones, in their display order
    # US states where the merchant has nexus (collects sales tax): elsewhere in the US, no tax.
    us_nexus: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        tax_rates: Sequence[TaxRate],
        zones: Sequence[ShippingZone],
        methods: Sequence[ShippingMethod],
        us_nexus: frozenset[str] = frozenset(),
    ) -> PricingConfig:
        return cls(
            tax_rates={(r.country, r.region, r.tax_class): r for r in tax_rates},
            zones=tuple(zones),
            methods=tuple(sorted(methods, key=lambda m: (m.position, m.name, m.id))),
            us_nexus=us_nexus,
        )
