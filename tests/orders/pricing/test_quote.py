"""The quote to the cent: tax-inclusive (DE, GB) and exclusive (US) markets, shipping methods by
address, value and weight, and the rounding rule (docs/money.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import pytest

from mercato.services.orders.pricing.quote import Market, QuoteLine, quote
from mercato.services.orders.pricing.tax import Destination
from tests.orders.pricing.factories import EU, UK, US, pricing_config

CONFIG = pricing_config()


@dataclass(frozen=True)
class Case:
    name: str
    market: Market
    destination: Destination
    lines: tuple[QuoteLine, ...]
    shipping_method: str | None
    # expected: per line (tax, rate), shipping (method, price, tax), tax lines, totals
    line_tax: tuple[tuple[int, str], ...]
    shipping: tuple[str | None, int, int]
    tax_lines: tuple[tuple[str, str, int], ...]
    totals: tuple[int, int, int, int]  # subtotal, shipping, tax, total


def lines(*specs: tuple[int, int, str]) -> tuple[QuoteLine, ...]:
    return tuple(
        QuoteLine(sku=f"SKU-{i}", unit_price=price, quantity=qty, tax_class=tax_class, weight_grams=600)
        for i, (price, qty, tax_class) in enumerate(specs)
    )


CASES = [
    Case(
        "DE, VAT included: 19% on the shirt and on shipping, 7% on the book",
        EU,
        Destination("DE", postal_code="10115"),
        lines((1999, 2, "standard"), (1000, 1, "reduced")),
        None,
        line_tax=((638, "19"), (65, "7")),
        shipping=("eu_standard", 495, 79),  # 4493 x 19/119 = 717.37 → 717 = 638 + 79
        tax_lines=(("19", "VAT", 717), ("7", "VAT", 65)),
        totals=(4998, 495, 782, 5493),
    ),
    Case(
        "GB, VAT included, free standard delivery from £40",
        UK,
        Destination("GB", postal_code="N1 9GU"),
        lines((1799, 2, "standard"), (900, 1, "reduced")),
        None,
        line_tax=((600, "20"), (43, "5")),
        shipping=("uk_standard", 0, 0),
        tax_lines=(("20", "VAT", 600), ("5", "VAT", 43)),
        totals=(4498, 0, 643, 4498),
    ),
    Case(
        "New York, tax added: 4% on goods and on the delivery charge; reduced at the state's rate",
        US,
        Destination("US", region="ny", postal_code="10001"),
        lines((2100, 2, "standard"), (1000, 1, "reduced")),
        None,
        # 5699 x 4% = 227.96 → 228; shares 168, 40, 19.96: the unit left goes to the delivery charge
        line_tax=((168, "4"), (40, "4")),
        shipping=("us_standard", 499, 20),
        tax_lines=(("4", "Sales tax (NY)", 228),),
        totals=(5200, 499, 228, 5927),
    ),
    Case(
        "California, tax added, delivery charge not taxed there",
        US,
        Destination("US", region="CA", postal_code="94103"),
        lines((2100, 2, "standard"), (1000, 1, "zero")),
        None,
        line_tax=((305, "7.25"), (0, "0")),  # 4200 x 7.25% = 304.5 → 305
        shipping=("us_standard", 499, 0),
        tax_lines=(("7.25", "Sales tax (CA)", 305),),
        totals=(5200, 499, 305, 6004),
    ),
    Case(
        "Florida, where the merchant has no nexus: no tax",
        US,
        Destination("US", region="FL", postal_code="33101"),
        lines((2100, 2, "standard"), (1000, 1, "reduced")),
        None,
        line_tax=((0, "0"), (0, "0")),
        shipping=("us_standard", 499, 0),
        tax_lines=(),
        totals=(5200, 499, 0, 5699),
    ),
    Case(
        "Free standard delivery from €50: exactly €50",
        EU,
        Destination("FR", postal_code="75001"),
        lines((5000, 1, "standard")),
        None,
        line_tax=((833, "20"),),  # 5000 x 20/120 = 833.33
        shipping=("eu_standard", 0, 0),
        tax_lines=(("20", "VAT", 833),),
        totals=(5000, 0, 833, 5000),
    ),
    Case(
        "Click and collect in Berlin: no charge, so no tax on it",
        EU,
        Destination("DE", postal_code="10115"),
        lines((1999, 1, "standard")),
        "collect",
        line_tax=((319, "19"),),  # 1999 x 19/119 = 319.17
        shipping=("collect", 0, 0),
        tax_lines=(("19", "VAT", 319),),
        totals=(1999, 0, 319, 1999),
    ),
    Case(
        "Express by weight in the US: 3 x 600 g is the 1-5 kg band",
        US,
        Destination("US", region="TX", postal_code="73301"),
        lines((1000, 3, "standard")),
        "us_express",
        line_tax=((0, "0"),),  # TX has no rate in this table: none
        shipping=("us_express", 2499, 0),
        tax_lines=(),
        totals=(3000, 2499, 0, 5499),
    ),
    Case(
        "Largest remainder, ties to the earlier line: 3 x 159.66 → 479 = 160 + 160 + 159",
        EU,
        Destination("DE", postal_code="10115"),
        lines((1000, 1, "standard"), (1000, 1, "standard"), (1000, 1, "standard")),
        "collect",
        line_tax=((160, "19"), (160, "19"), (159, "19")),
        shipping=("collect", 0, 0),
        tax_lines=(("19", "VAT", 479),),
        totals=(3000, 0, 479, 3000),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_quote_to_the_cent(case: Case):
    priced = quote(
        case.lines,
        market=case.market,
        destination=case.destination,
        config=CONFIG,
        shipping_method=case.shipping_method,
    )
    assert [(line.tax, f"{line.tax_rate:f}") for line in priced.lines] == list(case.line_tax)
    assert priced.shipping is not None
    assert (priced.shipping.id, priced.shipping.price, priced.shipping_tax) == case.shipping
    assert [(f"{t.rate:f}", t.label, t.amount) for t in priced.tax_lines] == list(case.tax_lines)
    totals = priced.totals
    assert (totals.subtotal, totals.shipping, totals.tax, totals.total) == case.totals
    assert totals.discount == 0


def _offered(destination: Destination, market: Market, value: int) -> list[str]:
    line = QuoteLine(sku="SKU-1", unit_price=value, quantity=1)
    return [o.id for o in quote([line], market=market, destination=destination, config=CONFIG).options]


def test_the_methods_offered_change_with_the_address():
    assert _offered(Destination("DE", postal_code="10115"), EU, 2000) == [
        "eu_standard",
        "eu_express",
        "collect",
    ]
    assert _offered(Destination("FR", postal_code="75001"), EU, 2000) == ["eu_standard", "eu_express"]
    assert _offered(Destination("GB", postal_code="N1 9GU"), UK, 2000) == ["uk_standard"]
    assert _offered(Destination("GB", postal_code="iv2 3ab"), UK, 2000) == ["uk_standard", "uk_highlands"]
    assert _offered(Destination("US", region="NY"), US, 2000) == ["us_standard", "us_express"]
    assert _offered(Destination("JP"), EU, 2000) == []


def test_a_method_that_does_not_apply_is_replaced_by_the_cheapest():
    line = QuoteLine(sku="SKU-1", unit_price=2000, quantity=1)
    priced = quote([line], market=EU, destination=Destination("FR"), config=CONFIG, shipping_method="collect")
    assert priced.shipping is not None and priced.shipping.id == "eu_standard"


def test_no_band_for_the_weight_means_the_method_is_not_offered():
    heavy = QuoteLine(sku="SKU-1", unit_price=1000, quantity=10, weight_grams=600)  # 6 kg
    priced = quote([heavy], market=US, destination=Destination("US", region="NY"), config=CONFIG)
    assert [o.id for o in priced.options] == ["us_standard"]


def test_an_empty_cart_costs_nothing():
    priced = quote([], market=EU, destination=Destination("DE"), config=CONFIG)
    assert priced.shipping is None and priced.options == ()
    totals = priced.totals
    assert (totals.subtotal, totals.shipping, totals.tax, totals.total) == (0, 0, 0, 0)


DESTINATIONS = [
    (EU, Destination("DE", postal_code="10115")),
    (EU, Destination("FR", postal_code="75001")),
    (UK, Destination("GB", postal_code="IV1 1AA")),
    (US, Destination("US", region="NY")),
    (US, Destination("US", region="CA")),
]


def test_lines_and_shipping_always_sum_to_the_tax_lines_and_the_totals():
    """Property-style: 2,000 random carts, every market, every method that applies."""
    rng = random.Random(15)
    for _ in range(2000):
        market, destination = rng.choice(DESTINATIONS)
        cart = [
            QuoteLine(
                sku=f"SKU-{i}",
                unit_price=rng.randint(1, 30000),
                quantity=rng.randint(1, 5),
                tax_class=rng.choice(["standard", "standard", "reduced", "zero"]),
                weight_grams=rng.randint(0, 900),
            )
            for i in range(rng.randint(1, 8))
        ]
        first = quote(cart, market=market, destination=destination, config=CONFIG)
        for option in first.options:
            priced = quote(
                cart, market=market, destination=destination, config=CONFIG, shipping_method=option.id
            )
            by_rate: dict[Decimal, int] = {}
            members = [(line.tax_rate, line.tax) for line in priced.lines]
            for rate, amount in [*members, (priced.shipping_tax_rate, priced.shipping_tax)]:
                by_rate[rate] = by_rate.get(rate, 0) + amount
            assert {t.rate: t.amount for t in priced.tax_lines} == {r: a for r, a in by_rate.items() if r}
            totals = priced.totals
            assert totals.tax == sum(t.amount for t in priced.tax_lines)
            assert totals.subtotal == sum(line.line_total for line in priced.lines)
            added = 0 if market.prices_include_tax else totals.tax
            assert totals.total == totals.subtotal + totals.shipping + added
            for line in priced.lines:  # no line's tax is more than a unit off its exact share
                exact = (
                    line.line_total
                    * line.tax_rate
                    / (100 + line.tax_rate if market.prices_include_tax else 100)
                )
                assert abs(line.tax - exact) < 1
