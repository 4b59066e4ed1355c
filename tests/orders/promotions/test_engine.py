"""Cart promotions to the cent, through the quote (promotions/engine.py, pricing/quote.py): stacking,
every action, the rounding rule, tax after discounts in tax-inclusive (DE) and exclusive (US-NY)
markets (docs/money.md, "Discounts")."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mercato.services.orders.pricing.quote import Market, Quote, QuoteLine, quote
from mercato.services.orders.pricing.tax import Destination
from mercato.services.orders.promotions.rules import Offers
from tests.orders.pricing.factories import EU, US, pricing_config
from tests.orders.promotions.factories import line, offers, promotion

CONFIG = pricing_config()
DE = Destination("DE", postal_code="10115")
NY = Destination("US", region="NY", postal_code="10001")

SHIRT_AND_BOOK = (line("SHIRT", 1999, 2), line("BOOK", 1000, 1, tax_class="reduced"))


@dataclass(frozen=True)
class Case:
    name: str
    market: Market
    destination: Destination
    lines: tuple[QuoteLine, ...]
    offers: Offers
    discounts: tuple[tuple[str, int, int], ...]  # promotion, amount, of which shipping
    line_discounts: tuple[int, ...]
    line_tax: tuple[int, ...]
    shipping: tuple[int, int]  # price, tax
    totals: tuple[int, int, int, int, int]  # subtotal, discount, shipping, tax, total


CASES = [
    Case(
        "DE: 10% off, then €5 off the order, then free shipping — each on what the others left",
        EU,
        DE,
        SHIRT_AND_BOOK,
        offers(
            promotion(id="p-ten", type="percentage", percent="10", priority=30),
            promotion(id="p-five", type="fixed", target="order", amounts={"EUR": 500}, priority=20),
            promotion(id="p-ship", type="free_shipping", priority=10),
        ),
        # 10%: 399.8 + 100 = 499.8 → 500 = 400 + 100; €5 over 3598 : 900 → 399.96 + 100.04 → 400 + 100
        discounts=(("p-ten", 500, 0), ("p-five", 500, 0), ("p-ship", 495, 495)),
        line_discounts=(800, 200),
        # 19%: 3198 x 19/119 = 510.60 → 511 (shipping is free: no tax in it); 7%: 800 x 7/107 = 52.34
        line_tax=(511, 52),
        shipping=(495, 0),
        totals=(4998, 1495, 495, 563, 3998),
    ),
    Case(
        "Exclusive first: 20% alone, the combinable €5 after it is refused",
        EU,
        DE,
        (line("COAT", 10000, 1),),
        offers(
            promotion(
                id="p-20", name="Twenty off", type="percentage", percent="20", combines=False, priority=10
            ),
            codes={
                "FIVE": promotion(id="p-5", type="fixed", target="order", amounts={"EUR": 500}, priority=5)
            },
        ),
        discounts=(("p-20", 2000, 0),),
        line_discounts=(2000,),
        line_tax=(1277,),  # 8000 x 19/119 = 1277.31
        shipping=(0, 0),
        totals=(10000, 2000, 0, 1277, 8000),
    ),
    Case(
        "Combinable first: €5 applies, the exclusive 20% after it is refused",
        EU,
        DE,
        (line("COAT", 10000, 1),),
        offers(
            promotion(id="p-5", type="fixed", target="order", amounts={"EUR": 500}, priority=10),
            codes={
                "TWENTY": promotion(id="p-20", type="percentage", percent="20", combines=False, priority=5)
            },
        ),
        discounts=(("p-5", 500, 0),),
        line_discounts=(500,),
        line_tax=(1517,),  # 9500 x 19/119 = 1516.81
        shipping=(0, 0),
        totals=(10000, 500, 0, 1517, 9500),
    ),
    Case(
        "Both combinable: 20% of 10000, then €5 of what is left",
        EU,
        DE,
        (line("COAT", 10000, 1),),
        offers(
            promotion(id="p-20", type="percentage", percent="20", priority=10),
            promotion(id="p-5", type="fixed", target="order", amounts={"EUR": 500}, priority=5),
        ),
        discounts=(("p-20", 2000, 0), ("p-5", 500, 0)),
        line_discounts=(2500,),
        line_tax=(1197,),  # 7500 x 19/119 = 1197.48
        shipping=(0, 0),
        totals=(10000, 2500, 0, 1197, 7500),
    ),
    Case(
        "Buy 2 get 1 with 7 items: two sets, the two cheapest units free (the €4 one and a €7 one)",
        EU,
        DE,
        (line("A", 1000, 3), line("B", 400, 1), line("C", 700, 3)),
        offers(promotion(id="p-b2g1", type="buy_x_get_y", buy=2, get=1)),
        discounts=(("p-b2g1", 1100, 0),),
        line_discounts=(0, 400, 700),
        # 4400 x 19/119 = 702.52 → 703: 478.99, 0, 223.53 → 479, 0, 224
        line_tax=(479, 0, 224),
        shipping=(0, 0),  # €55 before discounts: standard delivery is free from €50
        totals=(5500, 1100, 0, 703, 4400),
    ),
    Case(
        "Tiered in New York: 5 units reach the 10% tier (15% needs $100); tax added after",
        US,
        NY,
        (line("MUG", 1299, 5),),
        offers(
            promotion(
                id="p-tiers",
                type="tiered",
                tiers=(("5", 2, None), ("10", 4, None), ("15", 0, {"USD": 10000})),
            )
        ),
        discounts=(("p-tiers", 650, 0),),  # 649.5 → 650
        line_discounts=(650,),
        # (5845 + 499) x 4% = 253.76 → 254: 233.8 + 19.96 → 234 + 20
        line_tax=(234,),
        shipping=(499, 20),
        totals=(6495, 650, 499, 254, 6598),
    ),
    Case(
        "New York: 15% off and free shipping; tax on what is left",
        US,
        NY,
        (line("HAT", 2100, 2), line("BOOK", 1000, 1, tax_class="reduced")),
        offers(
            promotion(id="p-15", type="percentage", percent="15", priority=1),
            promotion(id="p-ship", type="free_shipping"),
        ),
        discounts=(("p-15", 780, 0), ("p-ship", 499, 499)),
        line_discounts=(630, 150),
        line_tax=(143, 34),  # 4420 x 4% = 176.8 → 177: 142.8 + 34
        shipping=(499, 0),
        totals=(5200, 1279, 499, 177, 4597),
    ),
    Case(
        "€3 off each shirt: exact per unit",
        EU,
        DE,
        SHIRT_AND_BOOK,
        offers(promotion(id="p-3", type="fixed", amounts={"EUR": 300}, skus=["SHIRT"])),
        discounts=(("p-3", 600, 0),),
        line_discounts=(600, 0),
        line_tax=(543, 65),  # 19%: (3398 + 495) x 19/119 = 621.57 → 622: 542.55 + 79.03 → 543 + 79
        shipping=(495, 79),
        totals=(4998, 600, 495, 687, 4893),
    ),
    Case(
        "€10 off the order: spread in proportion by largest remainder",
        EU,
        DE,
        SHIRT_AND_BOOK,
        offers(promotion(id="p-10", type="fixed", target="order", amounts={"EUR": 1000})),
        discounts=(("p-10", 1000, 0),),
        line_discounts=(800, 200),  # 799.92 + 200.08
        line_tax=(511, 52),  # 19%: (3198 + 495) x 19/119 = 589.63 → 590 = 511 + 79; 7%: 52.34
        shipping=(495, 79),
        totals=(4998, 1000, 495, 642, 4493),
    ),
    Case(
        "A fixed amount never takes a line below zero",
        EU,
        DE,
        (line("PEN", 250, 2),),
        offers(promotion(id="p-big", type="fixed", amounts={"EUR": 400})),
        discounts=(("p-big", 500, 0),),
        line_discounts=(500,),
        line_tax=(0,),
        shipping=(495, 79),
        totals=(500, 500, 495, 79, 495),
    ),
    Case(
        "A gift card line is never discounted, and is not shipped",
        EU,
        DE,
        (line("SHIRT", 1999, 1), line("GIFT", 5000, 1, tax_class="zero", kind="gift_card")),
        offers(promotion(id="p-ten", type="percentage", percent="10")),
        discounts=(("p-ten", 200, 0),),  # 199.9 → 200, all of it the shirt's
        line_discounts=(200, 0),
        line_tax=(287, 0),  # (1799 + 495) x 19/119 = 366.27 → 366 = 287 + 79
        shipping=(495, 79),  # the shirt alone is under €50
        totals=(6999, 200, 495, 366, 7294),
    ),
]


def _quote(case: Case) -> Quote:
    return quote(
        case.lines, market=case.market, destination=case.destination, config=CONFIG, offers=case.offers
    )


def assert_sums(priced: Quote) -> None:
    """What every quote holds: the promotions' shares sum to the lines' discounts and to the order's,
    the lines' and the shipping's tax to the tax lines, and the total is what docs/money.md says."""
    totals = priced.totals
    assert sum(d.amount for d in priced.discounts) == totals.discount
    for d in priced.discounts:
        assert sum(amount for _, amount in d.lines) + d.shipping_amount == d.amount
    assert sum(line.discount for line in priced.lines) + priced.shipping_discount == totals.discount
    for line_ in priced.lines:
        assert 0 <= line_.discount <= line_.line_total
    assert 0 <= priced.shipping_discount <= totals.shipping
    assert sum(line_.tax for line_ in priced.lines) + priced.shipping_tax == totals.tax
    assert sum(t.amount for t in priced.tax_lines) == totals.tax
    assert totals.subtotal == sum(line_.line_total for line_ in priced.lines)
    added = 0 if priced.market.prices_include_tax else totals.tax
    assert totals.total == totals.subtotal - totals.discount + totals.shipping + added


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cart_promotions_to_the_cent(case: Case):
    priced = _quote(case)
    assert [(d.promotion_id, d.amount, d.shipping_amount) for d in priced.discounts] == list(case.discounts)
    assert tuple(line_.discount for line_ in priced.lines) == case.line_discounts
    assert tuple(line_.tax for line_ in priced.lines) == case.line_tax
    assert priced.shipping is not None
    assert (priced.shipping.price, priced.shipping_tax) == case.shipping
    t = priced.totals
    assert (t.subtotal, t.discount, t.shipping, t.tax, t.total) == case.totals
    assert_sums(priced)


def test_a_refused_combination_names_the_promotion_in_its_way():
    first, second = CASES[1], CASES[2]
    assert [(c.code, c.applied, c.reason, c.message) for c in _quote(first).codes] == [
        ("FIVE", False, "not-combinable", "FIVE can't be combined with Twenty off.")
    ]
    assert [(c.code, c.applied, c.reason, c.message) for c in _quote(second).codes] == [
        ("TWENTY", False, "not-combinable", "TWENTY can't be combined with p-5.")
    ]


def test_an_applied_code_says_what_it_took_off():
    priced = quote(
        SHIRT_AND_BOOK,
        market=EU,
        destination=DE,
        config=CONFIG,
        offers=offers(codes={"SHIP": promotion(id="p-ship", trigger="code", type="free_shipping")}),
    )
    [outcome] = priced.codes
    assert (outcome.code, outcome.applied, outcome.promotion_name, outcome.amount) == (
        "SHIP",
        True,
        "p-ship",
        495,
    )
    assert priced.discounts[0].code == "SHIP"


def test_without_offers_nothing_is_taken_off():
    priced = quote(SHIRT_AND_BOOK, market=EU, destination=DE, config=CONFIG)
    assert priced.discounts == () and priced.codes == () and priced.totals.discount == 0
    assert priced.totals.total == 5493


def test_a_cart_of_gift_cards_needs_no_shipping():
    cards = (line("GIFT", 5000, 2, tax_class="zero", kind="gift_card"),)
    priced = quote(
        cards,
        market=EU,
        destination=DE,
        config=CONFIG,
        offers=offers(codes={"SHIP": promotion(id="p-ship", type="free_shipping")}),
    )
    assert priced.shipping is None and priced.options == () and not priced.needs_shipping
    assert priced.deliverable
    assert (priced.totals.total, priced.totals.discount, priced.totals.tax) == (10000, 0, 0)
    assert priced.codes[0].reason == "no-eligible-items"
