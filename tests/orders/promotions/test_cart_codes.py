"""Promotion codes on the cart (POST/DELETE /api/v1/cart/codes): each code entered comes back applied
with what it takes off, or rejected with a reason the shopper reads; an unknown code is refused and not
kept; five at most; a guest's too, and they follow the guest into the account on sign-in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.promotions.stored import add_promotion


def _shopper() -> dict[str, str]:
    return {"x-mercato-customer-id": new_id("cus")}


async def _cart_with(back_office, auth: dict[str, str], *, price: int = 2000, quantity: int = 2) -> str:
    sku = (await create_product(back_office.catalog, price=price, stock=20))["variants"][0]["sku"]
    added = await back_office.orders.post(
        "/api/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=auth
    )
    assert added.status_code == 200, added.text
    return sku


async def _enter(back_office, auth: dict[str, str], code: str):
    return await back_office.orders.post("/api/v1/cart/codes", json={"code": code}, headers=auth)


async def test_a_code_takes_its_share_off_the_lines_and_the_totals(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="Summer 10%", codes=["SUMMER10"])
    auth = _shopper()
    sku = await _cart_with(back_office, auth, price=2000, quantity=2)

    entered = await _enter(back_office, auth, " summer10 ")  # as typed: case and spaces do not matter

    assert entered.status_code == 200, entered.text
    cart = entered.json()
    eur = lambda amount: {"amount": amount, "currency": "EUR"}  # noqa: E731
    assert cart["codes"] == [
        {
            "code": "SUMMER10",
            "status": "applied",
            "applied": True,
            "promotion": "Summer 10%",
            "reason": None,
            "message": None,
            "discount": eur(400),
        }
    ]
    assert cart["discounts"] == [
        {"promotion_id": promotion_id, "name": "Summer 10%", "code": "SUMMER10", "amount": eur(400)}
    ]
    [line] = cart["lines"]
    assert (line["sku"], line["discount"], line["kind"]) == (sku, eur(400), "physical")
    totals = {name: money["amount"] for name, money in cart["totals"].items()}
    assert totals["subtotal"] == 4000 and totals["discount"] == 400
    # Prices include VAT in Germany: the total is what the lines cost less the discount, plus delivery.
    assert totals["total"] == 4000 - 400 + totals["shipping"]
    again = await back_office.orders.get("/api/v1/cart", headers=auth)
    assert again.json()["codes"] == cart["codes"] and again.json()["totals"] == cart["totals"]


async def test_each_rejected_code_says_why(back_office):
    app = back_office.orders_app
    past = datetime.now(UTC) - timedelta(days=1)
    await add_promotion(app, name="Used up", codes=["GONE"], usage_limit=3, used=3)
    await add_promotion(app, name="Last week", codes=["LASTWEEK"], ends_at=past)
    await add_promotion(app, name="Big spenders", codes=["BIG"], conditions={"min_subtotal": {"EUR": 10000}})
    await add_promotion(app, name="Fine", codes=["FINE"])
    auth = _shopper()
    await _cart_with(back_office, auth, price=2000, quantity=1)

    for code in ("GONE", "LASTWEEK", "BIG", "FINE"):
        assert (await _enter(back_office, auth, code)).status_code == 200

    cart = (await back_office.orders.get("/api/v1/cart", headers=auth)).json()
    outcomes = {c["code"]: (c["applied"], c["reason"]) for c in cart["codes"]}
    assert outcomes == {
        "GONE": (False, "usage-exhausted"),
        "LASTWEEK": (False, "expired"),
        "BIG": (False, "minimum-not-met"),
        "FINE": (True, None),
    }
    assert [c["code"] for c in cart["codes"]] == ["GONE", "LASTWEEK", "BIG", "FINE"]  # as entered
    for rejected in (c for c in cart["codes"] if not c["applied"]):
        assert rejected["message"] and rejected["discount"]["amount"] == 0
    assert "GONE" in next(c["message"] for c in cart["codes"] if c["code"] == "GONE")
    assert cart["totals"]["discount"]["amount"] == 200  # only FINE's 10%


async def test_an_unknown_code_is_refused_and_not_kept(back_office):
    auth = _shopper()
    await _cart_with(back_office, auth)

    refused = await _enter(back_office, auth, "NOSUCHCODE")

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/unknown-code"), problem
    assert "NOSUCHCODE" in problem["detail"] and problem["errors"] == {"code": "is not a known code"}
    assert (await back_office.orders.get("/api/v1/cart", headers=auth)).json()["codes"] == []


async def test_five_codes_at_most_and_the_same_code_twice_changes_nothing(back_office):
    app = back_office.orders_app
    codes = [f"FIVE{i}" for i in range(6)]
    await add_promotion(app, name="Many codes", codes=codes)
    auth = _shopper()
    await _cart_with(back_office, auth)

    for code in codes[:5]:
        assert (await _enter(back_office, auth, code)).status_code == 200
    again = await _enter(back_office, auth, codes[0])
    sixth = await _enter(back_office, auth, codes[5])

    assert again.status_code == 200 and [c["code"] for c in again.json()["codes"]] == codes[:5]
    assert sixth.status_code == 422 and sixth.json()["errors"] == {"code": "at most 5 codes per cart"}
    cart = (await back_office.orders.get("/api/v1/cart", headers=auth)).json()
    assert [c["code"] for c in cart["codes"]] == codes[:5]
    # Five codes of one promotion: it applies once; the others say which promotion is in their way.
    assert [c["applied"] for c in cart["codes"]] == [True, False, False, False, False]
    assert {c["reason"] for c in cart["codes"][1:]} == {"not-combinable"}


async def test_removing_a_code(back_office):
    app = back_office.orders_app
    await add_promotion(app, name="Remove me", codes=["REMOVEME"])
    auth = _shopper()
    await _cart_with(back_office, auth)
    await _enter(back_office, auth, "REMOVEME")

    removed = await back_office.orders.delete("/api/v1/cart/codes/removeme", headers=auth)
    missing = await back_office.orders.delete("/api/v1/cart/codes/REMOVEME", headers=auth)

    assert removed.status_code == 200, removed.text
    assert removed.json()["codes"] == [] and removed.json()["totals"]["discount"]["amount"] == 0
    assert missing.status_code == 404


async def test_bad_code_input_is_a_clear_422(back_office):
    auth = _shopper()
    for body in ({}, {"code": ""}, {"code": "<script>"}, {"code": "A" * 41}, {"code": 10}):
        response = await back_office.orders.post("/api/v1/cart/codes", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
    assert (await back_office.orders.post("/api/v1/cart/codes", json={"code": "X"})).status_code == 401


async def test_a_guest_enters_codes_and_they_follow_into_the_account_on_sign_in(back_office):
    app = back_office.orders_app
    await add_promotion(app, name="Guest code", codes=["GUEST5"])
    await add_promotion(app, name="Account code", codes=["ACCOUNT5"], action={"type": "free_shipping"})
    guest = {"X-Cart-Token": (await back_office.orders.post("/api/v1/carts")).json()["cart_token"]}
    await _cart_with(back_office, guest)
    entered = await _enter(back_office, guest, "GUEST5")
    assert entered.status_code == 200 and entered.json()["codes"][0]["applied"] is True
    account = _shopper()
    await _cart_with(back_office, account, quantity=1)
    await _enter(back_office, account, "ACCOUNT5")

    merged = (await back_office.orders.get("/api/v1/cart", headers=account | guest)).json()

    assert [c["code"] for c in merged["codes"]] == ["ACCOUNT5", "GUEST5"]
    assert all(c["applied"] for c in merged["codes"]), merged["codes"]
    assert merged["item_count"] == 3
    # Merged once: a code taken off afterwards stays off though the old token is still sent.
    await back_office.orders.delete("/api/v1/cart/codes/GUEST5", headers=account | guest)
    after = (await back_office.orders.get("/api/v1/cart", headers=account | guest)).json()
    assert [c["code"] for c in after["codes"]] == ["ACCOUNT5"]


async def test_codes_entered_at_once_all_stay_on_the_cart(back_office):
    """Two tabs (or a double tap) entering codes at the same moment: none is lost."""
    app = back_office.orders_app
    for code in ("ATONCE1", "ATONCE2", "ATONCE3", "ATONCE4"):
        await add_promotion(app, name=code, codes=[code])
    auth = _shopper()
    await _cart_with(back_office, auth)

    answers = await asyncio.gather(*(_enter(back_office, auth, f"ATONCE{i}") for i in range(1, 5)))

    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    cart = (await back_office.orders.get("/api/v1/cart", headers=auth)).json()
    assert sorted(c["code"] for c in cart["codes"]) == ["ATONCE1", "ATONCE2", "ATONCE3", "ATONCE4"]
