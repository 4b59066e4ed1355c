"""Which tax rate applies: the one interface of tax (docs/tax.md).

`rates()` is what the quote asks: for a destination and the tax classes of the cart's lines, the rate of
each class and the rate of the shipping charge. It reads the rate table (EU VAT, UK VAT, US state sales
tax where the merchant has nexus); an external tax provider would sit behind this same signature (its
answer cached per destination the way the table is), and nothing else in orders would change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from mercato.services.orders.pricing.config import PricingConfig

US = "US"
# The states, DC and the territories with US postal addresses: a US destination names one.
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
    ]
)


@dataclass(frozen=True)
class AppliedRate:
    rate: Decimal  # a percentage: 19, 5.5, 8.875
    label: str  # what the tax is called where it is charged: "VAT", "Sales tax (NY)"


NONE = AppliedRate(Decimal(0), "")


@dataclass(frozen=True)
class Destination:
    country: str
    region: str = ""  # a US state's two-letter code
    postal_code: str = ""


@dataclass(frozen=True)
class TaxRates:
    by_class: Mapping[str, AppliedRate]
    shipping: AppliedRate  # the destination's standard rate, or NONE where shipping is not taxed


def rates(config: PricingConfig, destination: Destination, tax_classes: Iterable[str]) -> TaxRates:
    """Destination-based: the rates of the country the goods are delivered to (of the US state, where the
    merchant has nexus; elsewhere in the US, none). A `reduced` class without a rate of its own is taxed
    at the standard rate; `zero` is untaxed unless the table says otherwise."""
    country, region = destination.country.upper(), ""
    if country == US:
        region = destination.region.strip().upper()
        if region not in config.us_nexus:
            return TaxRates(by_class={c: NONE for c in tax_classes}, shipping=NONE)
    standard = config.tax_rates.get((country, region, "standard"))

    def of(tax_class: str) -> AppliedRate:
        row = config.tax_rates.get((country, region, tax_class))
        if row is None and tax_class == "reduced":
            row = standard
        return AppliedRate(row.rate, row.label) if row is not None else NONE

    shipping = AppliedRate(standard.rate, standard.label) if standard and standard.shipping_taxable else NONE
    return TaxRates(by_class={c: of(c) for c in set(tax_classes)}, shipping=shipping)
