"""Every reason a code is refused, in the sentence the shopper reads, and the sums that hold for any cart
and any promotions (promotions/engine.py)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mercato.services.orders.pricing.quote import quote
from mercato.services.orders.pricing.tax import Destination
from mercato.services.orders.promotions.rules import Promotion, Refused
from tests.orders.pricing.factories import EU, UK, US, pricing_config
from tests.orders.promotions.factories import line, offers, promotion
from tests.orders.promotions.test_engine import assert_sums

CONFIG = pricing_config()
DE = Destination("DE", postal_code="10115")
# €38 of eligible shirts, a €10 book in another category
CART = (
    line("SHIRT", 1900, 2, category_ids=["apparel", "clothing"]),
    line("BOOK", 1000, 1, tax_class="reduced", category_ids=["books"]),
)
TEN = dict(type="percentage", percent="10", trigger="code")

REASONS = [
    (promotion(id="p", **TEN, active=False), "inactive", "SAVE10 is no longer available."),
    (
        promotion(id="p", **TEN, starts_at=datetime(2026, 12, 24, tzinfo=UTC)),
        "not-yet-valid",
        "SAVE10 can be used from 24 December 2026.",
    ),
    (
        promotion(id="p", **TEN, ends_at=datetime(2026, 12, 1, tzinfo=UTC)),
        "expired",
        "SAVE10 expired on 1 December 2026.",
    ),
    (
        promotion(id="p", **TEN, markets=["uk", "us"]),
        "wrong-market",
        "SAVE10 can't be used in this market (EU): only in UK, US.",
    ),
    (
        promotion(id="p", type="fixed", amounts={"GBP": 500}, trigger="code"),
        "wrong-market",
        "SAVE10 can't be used with prices in EUR.",
    ),
    (promotion(id="p", **TEN, first_order=True), "first-order-only", "SAVE10 is for a first order only."),
    (
        promotion(id="p", **TEN, category_ids=["shoes"]),
        "no-eligible-items",
        "None of the items in your cart qualify for SAVE10.",
    ),
    (
        promotion(id="p", **TEN, category_ids=["clothing"], min_subtotal={"EUR": 5000}),
        "minimum-not-met",
        "Spend €50.00 or more on eligible items to use SAVE10 (€12.00 more).",
    ),
    (
        promotion(id="p", **TEN, min_quantity=5),
        "minimum-not-met",
        "Add 2 more eligible items to use SAVE10 (at least 5).",
    ),
    (
        promotion(id="p", type="buy_x_get_y", buy=2, get=1, skus=["SHIRT"], trigger="code"),
        "minimum-not-met",
        "Add 1 more eligible item to use SAVE10 (buy 2, get 1).",
    ),
    (
        promotion(id="p", type="tiered", tiers=(("10", 0, {"EUR": 8000}), ("20", 0, {"EUR": 12000}))),
        "minimum-not-met",
        "Spend €80.00 or more on eligible items to use SAVE10 (€32.00 more).",
    ),
]


@pytest.mark.parametrize(("found", "reason", "message"), REASONS, ids=[f"{r[1]}: {r[2]}" for r in REASONS])
def test_a_code_refused_says_why(found: Promotion, reason: str, message: str):
    priced = quote(
        CART,
        market=EU,
        destination=DE,
        config=CONFIG,
        offers=offers(codes={"SAVE10": found}, first_order=False),
    )
    assert [(c.code, c.applied, c.reason, c.message, c.amount) for c in priced.codes] == [
        ("SAVE10", False, reason, message, 0)
    ]
    assert priced.discounts == () and priced.totals.discount == 0


def test_the_lookups_refusals_pass_through_and_every_code_is_answered_in_order():
    applied = promotion(id="p-ok", name="Ten off", **TEN)
    refused = [
        Refused("GONE", "usage-exhausted", "GONE has been used up.", "Launch"),
        Refused("ONCE", "already-used", "You have already used ONCE.", "Welcome"),
        Refused("NOPE", "unknown-code", "NOPE is not a valid code."),
    ]
    found = offers(codes={"TEN": applied}, refused=refused)
    found = replace(found, codes=(*found.codes, "LOST"))  # on the cart, but neither offered nor refused
    priced = quote(CART, market=EU, destination=DE, config=CONFIG, offers=found)
    assert [(c.code, c.applied, c.promotion_name, c.reason, c.amount) for c in priced.codes] == [
        ("TEN", True, "Ten off", None, 480),  # 10% of 4800
        ("GONE", False, "Launch", "usage-exhausted", 0),
        ("ONCE", False, "Welcome", "already-used", 0),
        ("NOPE", False, None, "unknown-code", 0),
        ("LOST", False, None, "unknown-code", 0),
    ]


def test_two_codes_of_one_promotion_apply_it_once():
    ten = promotion(id="p-ten", name="Ten off", **TEN)
    priced = quote(CART, market=EU, destination=DE, config=CONFIG, offers=offers(codes={"A": ten, "B": ten}))
    assert [(c.code, c.applied, c.reason) for c in priced.codes] == [
        ("A", True, None),
        ("B", False, "not-combinable"),
    ]
    assert priced.totals.discount == 480


def test_an_automatic_promotion_that_does_not_apply_is_left_out_silently():
    never = promotion(id="p-never", type="percentage", percent="50", markets=["us"])
    priced = quote(CART, market=EU, destination=DE, config=CONFIG, offers=offers(never))
    assert priced.discounts == () and priced.codes == ()


MARKETS = [(EU, DE), (EU, Destination("FR")), (UK, Destination("GB")), (US, Destination("US", region="NY"))]


def _random_promotion(rng: random.Random, i: int) -> Promotion:
    kind = rng.choice(["percentage", "fixed", "fixed_order", "buy_x_get_y", "free_shipping", "tiered"])
    limits = {
        "priority": rng.randint(0, 3),
        "combines": rng.random() < 0.8,
        "skus": rng.sample([f"SKU-{n}" for n in range(6)], rng.randint(0, 3)),
        "min_quantity": rng.choice([0, 0, 2]),
    }
    amounts = {c: rng.randint(1, 3000) for c in ("EUR", "GBP", "USD")}
    if kind == "percentage":
        return promotion(id=f"p{i}", type=kind, percent=str(rng.randint(1, 1000) / 10), **limits)
    if kind in ("fixed", "fixed_order"):
        target = "order" if kind == "fixed_order" else "lines"
        return promotion(id=f"p{i}", type="fixed", target=target, amounts=amounts, **limits)
    if kind == "buy_x_get_y":
        return promotion(
            id=f"p{i}", type=kind, buy=rng.randint(1, 3), get=rng.randint(1, 2), percent="50", **limits
        )
    if kind == "tiered":
        tiers = (("5", 1, None), ("12.5", 4, None))
        return promotion(id=f"p{i}", type=kind, tiers=tiers, **limits)
    return promotion(id=f"p{i}", type=kind, **limits)


def test_any_cart_with_any_promotions_sums_exactly():
    """Property-style: 3,000 random carts with up to four random promotions in every market."""
    rng = random.Random(16)
    for _ in range(3000):
        market, destination = rng.choice(MARKETS)
        cart = [
            line(
                f"SKU-{n}",
                rng.randint(1, 20000),
                rng.randint(1, 6),
                tax_class=rng.choice(["standard", "standard", "reduced", "zero"]),
                kind="gift_card" if rng.random() < 0.1 else "physical",
            )
            for n in range(rng.randint(1, 6))
        ]
        found = offers(*(_random_promotion(rng, i) for i in range(rng.randint(0, 4))))
        priced = quote(cart, market=market, destination=destination, config=CONFIG, offers=found)
        assert_sums(priced)
        for line_ in priced.lines:
            if line_.kind == "gift_card":
                assert line_.discount == 0
