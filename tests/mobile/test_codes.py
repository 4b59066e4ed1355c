"""Promotion codes in the app (toga_dummy) on the real platform: the shopper types a code on the cart
screen, sees it applied with the promotion's name and amount in the totals as orders quotes them; a code
whose minimum is not met says orders' reason in words; an unknown code is said plainly; a code is
removed again and the discount goes with it."""

from __future__ import annotations

import pytest
from shop.screens.base import money

from tests.mobile.conftest import find, register, said, tap, texts, type_into
from tests.mobile.test_checkout import _orders, _rows
from tests.mobile.test_journey import _add_and_open_checkout
from tests.mobile_api.test_codes_e2e import _code, create_promotion

pytestmark = pytest.mark.e2e


async def test_a_code_is_applied_a_rejected_one_says_why_and_both_come_off(app, platform):
    shop = app.shop
    ten, big = _code(), _code()
    create_promotion(platform, code=ten, action={"type": "percentage", "target": "lines", "percent": "10"})
    create_promotion(
        platform,
        code=big,
        action={"type": "fixed", "target": "order", "amounts": {"EUR": 500}},
        conditions={"min_subtotal": {"EUR": 10_000_000}},
    )
    await register(app)
    await _add_and_open_checkout(shop)
    cart = shop.screen

    await type_into(cart.code, ten.lower())
    await tap(cart.apply)
    quote = _orders(platform, shop, "/cart")
    [discount] = quote["discounts"]
    assert f"{ten} applied" in said(cart.message), texts(shop.root)
    assert find(cart.box, f"code-{ten}") is not None and cart.code.value == ""
    rows = dict(_rows(cart.box))
    assert rows[f"Mobile {ten}"] == "−" + money(discount["amount"])
    assert rows["Total"] == money(quote["totals"]["total"])

    await type_into(cart.code, big)
    await tap(cart.apply)
    rejected = next(c for c in _orders(platform, shop, "/cart")["codes"] if c["code"] == big)
    assert said(cart.message) == " ".join(rejected["message"].split())
    assert rejected["message"] in said(find(cart.box, f"code-text-{big}")).replace(f"{big}: ", "")
    assert dict(_rows(cart.box))["Total"] == money(quote["totals"]["total"])  # it took nothing off

    await type_into(cart.code, "NOSUCHCODE1")
    await tap(cart.apply)
    assert "NOSUCHCODE1" in said(cart.message) or "code" in said(cart.message).lower()
    assert find(cart.box, "code-NOSUCHCODE1") is None

    await tap(find(cart.box, f"drop-code-{ten}"))
    await tap(find(cart.box, f"drop-code-{big}"))
    assert find(cart.box, f"code-{ten}") is None and find(cart.box, f"code-{big}") is None
    after = _orders(platform, shop, "/cart")
    assert after["codes"] == [] and after["totals"]["discount"]["amount"] == 0
    assert f"Mobile {ten}" not in dict(_rows(cart.box))
