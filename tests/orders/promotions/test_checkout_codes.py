"""Codes at checkout: the order keeps the promotions it was sold with and tells of them (OrderPlaced,
PromotionApplied); usage limits hold — a single-use code is used once, a per-customer limit per buyer —
and a checkout that fails (a declined card, a code used up meanwhile) takes nothing, charges nothing."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS, card_token, outbox_events
from tests.orders.promotions.stored import add_promotion, counters

DECLINED = "4000000000000002"


def _shopper() -> dict[str, str]:
    return {"x-mercato-customer-id": new_id("cus")}


async def _cart(back_office, auth: dict[str, str], *codes: str, price: int = 2000, quantity: int = 2) -> str:
    sku = (await create_product(back_office.catalog, price=price, stock=20))["variants"][0]["sku"]
    added = await back_office.orders.post(
        "/api/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=auth
    )
    assert added.status_code == 200, added.text
    for code in codes:
        entered = await back_office.orders.post("/api/v1/cart/codes", json={"code": code}, headers=auth)
        assert entered.status_code == 200, entered.text
    return sku


async def _checkout(back_office, auth: dict[str, str], *, card: str = "4242424242424242") -> httpx.Response:
    body = {
        "shipping_address": ADDRESS,
        "payment_method": card_token(sandbox=back_office.sandbox, number=card),
    }
    return await back_office.orders.post(
        "/api/v1/checkout", json=body, headers=auth | {"Idempotency-Key": str(uuid.uuid4())}
    )


async def _charges(back_office, order_id: str) -> list[dict]:
    found = await back_office.payments.get(f"/internal/payments/{order_id}")
    return [] if found.status_code == 404 else [found.json()]


async def test_the_order_keeps_its_promotions_and_tells_of_them(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="Summer 10%", codes=["SUMMERORDER"], usage_limit=100)
    auth = _shopper()
    sku = await _cart(back_office, auth, "SUMMERORDER", price=2000, quantity=2)

    placed = await _checkout(back_office, auth)

    assert placed.status_code == 201, placed.text
    order = placed.json()
    eur = lambda amount: {"amount": amount, "currency": "EUR"}  # noqa: E731
    assert order["promotions"] == [
        {"promotion_id": promotion_id, "name": "Summer 10%", "code": "SUMMERORDER", "amount": eur(400)}
    ]
    assert order["totals"]["discount"] == eur(400)
    assert [(line["sku"], line["discount"]) for line in order["lines"]] == [(sku, eur(400))]
    assert order["total"]["amount"] == 4000 - 400 + order["shipping"]["amount"]
    shown = (await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert shown["promotions"] == order["promotions"] and shown["lines"] == order["lines"]
    [event] = [e for e in await outbox_events(app, "OrderPlaced") if e["order_id"] == order["id"]]
    assert event["promotions"] == order["promotions"]
    assert event["lines"][0]["discount"] == eur(400)
    [applied] = [e for e in await outbox_events(app, "PromotionApplied") if e["order_id"] == order["id"]]
    assert (applied["promotion_id"], applied["code"], applied["discount"]) == (
        promotion_id,
        "SUMMERORDER",
        eur(400),
    )
    assert applied["customer_id"] == auth["x-mercato-customer-id"]
    used = await counters(app, promotion_id)
    assert (used["used"], used["orders"]) == (1, [order["id"]])
    assert (await _charges(back_office, order["id"]))[0]["amount"] == order["total"]


async def test_a_single_use_code_is_used_once(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="Welcome gift", single_use_codes=["ONCE-ABCD"])
    first, second = _shopper(), _shopper()
    await _cart(back_office, first, "ONCE-ABCD")
    await _cart(back_office, second, "ONCE-ABCD")  # entered before the first one pays: it still applies

    placed = await _checkout(back_office, first)
    refused = await _checkout(back_office, second)

    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] == "ONCE-ABCD"
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/promotion-unavailable")
    assert (problem["code"], problem["promotion"]) == ("ONCE-ABCD", "Welcome gift")
    assert "ONCE-ABCD" in problem["detail"] and "not been charged" in problem["detail"]
    cart = (await back_office.orders.get("/api/v1/cart", headers=second)).json()
    assert [(c["code"], c["applied"], c["reason"]) for c in cart["codes"]] == [
        ("ONCE-ABCD", False, "usage-exhausted")
    ]
    assert cart["totals"]["discount"]["amount"] == 0 and len(cart["lines"]) == 1  # the cart is intact
    used = await counters(app, promotion_id)
    assert (used["used"], used["codes"], used["orders"]) == (1, {"ONCE-ABCD": 1}, [placed.json()["id"]])
    # Without the code the second shopper buys at the full price.
    await back_office.orders.delete("/api/v1/cart/codes/ONCE-ABCD", headers=second)
    assert (await _checkout(back_office, second)).status_code == 201


async def test_a_code_used_up_while_paying_is_409_and_nothing_is_charged(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="Last one", codes=["LASTONE"], usage_limit=1)
    winner, loser = _shopper(), _shopper()
    await _cart(back_office, winner, "LASTONE")
    sku = await _cart(back_office, loser, "LASTONE")
    stock_before = (await back_office.catalog.get("/internal/variants", params={"sku": sku})).json()

    assert (await _checkout(back_office, winner)).status_code == 201
    refused = await _checkout(back_office, loser)

    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-unavailable")
    stock_after = (await back_office.catalog.get("/internal/variants", params={"sku": sku})).json()
    assert stock_after == stock_before  # the reservation was released
    assert (await counters(app, promotion_id))["used"] == 1
    orders = (await back_office.orders.get("/api/v1/orders", headers=loser)).json()["data"]
    assert orders == []


async def test_a_per_customer_limit_of_one(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="One each", codes=["ONEEACH"], per_customer_limit=1)
    buyer, other = _shopper(), _shopper()
    await _cart(back_office, buyer, "ONEEACH")
    assert (await _checkout(back_office, buyer)).status_code == 201

    await _cart(back_office, buyer, "ONEEACH")
    cart = (await back_office.orders.get("/api/v1/cart", headers=buyer)).json()
    refused = await _checkout(back_office, buyer)
    await _cart(back_office, other, "ONEEACH")
    placed = await _checkout(back_office, other)

    assert [(c["applied"], c["reason"]) for c in cart["codes"]] == [(False, "already-used")]
    assert "once per customer" in cart["codes"][0]["message"]
    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-unavailable")
    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] == "ONEEACH"
    used = await counters(app, promotion_id)
    assert used["used"] == 2
    assert used["buyers"] == {buyer["x-mercato-customer-id"]: 1, other["x-mercato-customer-id"]: 1}


async def test_a_declined_card_gives_the_use_back(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(
        app, name="Single", single_use_codes=["DECLINE-ONCE"], per_customer_limit=1, usage_limit=1
    )
    auth = _shopper()
    await _cart(back_office, auth, "DECLINE-ONCE")

    declined = await _checkout(back_office, auth, card=DECLINED)

    assert declined.status_code == 402, declined.text
    used = await counters(app, promotion_id)
    assert (used["used"], used["codes"], used["orders"]) == (0, {"DECLINE-ONCE": 0}, [])
    assert used["buyers"] == {auth["x-mercato-customer-id"]: 0}
    cart = (await back_office.orders.get("/api/v1/cart", headers=auth)).json()
    assert cart["codes"][0]["applied"] is True
    placed = await _checkout(back_office, auth)  # the same shopper, another card: the code is still theirs
    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] == "DECLINE-ONCE"
    assert (await counters(app, promotion_id))["used"] == 1


async def test_a_guest_is_counted_by_e_mail(back_office):
    app = back_office.orders_app
    await add_promotion(app, name="Guests once", codes=["GUESTONCE"], per_customer_limit=1)

    async def guest_checkout(email: str) -> httpx.Response:
        guest = {"X-Cart-Token": (await back_office.orders.post("/api/v1/carts")).json()["cart_token"]}
        await _cart(back_office, guest, "GUESTONCE")
        body = {
            "shipping_address": ADDRESS,
            "payment_method": card_token(sandbox=back_office.sandbox),
            "email": email,
        }
        return await back_office.orders.post(
            "/api/v1/checkout", json=body, headers=guest | {"Idempotency-Key": str(uuid.uuid4())}
        )

    first = await guest_checkout("guest-once@example.com")
    again = await guest_checkout("Guest-Once@Example.com")  # the same address, however written

    assert first.status_code == 201 and first.json()["promotions"][0]["code"] == "GUESTONCE"
    assert again.status_code == 409 and again.json()["type"].endswith("/promotion-unavailable")
    assert "already" in again.json()["detail"]


async def test_an_automatic_promotion_applies_without_a_code_and_counts_too(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(
        app,
        name="First five",
        trigger="automatic",
        usage_limit=1,
        action={"type": "percentage", "percent": "5"},
    )
    first, second = _shopper(), _shopper()
    await _cart(back_office, first)
    await _cart(back_office, second)
    shown = (await back_office.orders.get("/api/v1/cart", headers=second)).json()

    placed = await _checkout(back_office, first)
    refused = await _checkout(back_office, second)  # its cart showed it: refused, not charged more
    after = (await back_office.orders.get("/api/v1/cart", headers=second)).json()
    bought = await _checkout(back_office, second)

    assert [(d["name"], d["code"]) for d in shown["discounts"]] == [("First five", None)]
    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] is None
    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-unavailable")
    assert (refused.json()["code"], refused.json()["promotion"]) == (None, "First five")
    assert after["discounts"] == [] and after["totals"]["discount"]["amount"] == 0  # read again at once
    assert bought.status_code == 201 and bought.json()["promotions"] == []
    assert (await counters(app, promotion_id))["used"] == 1


async def test_a_first_order_promotion_is_for_buyers_without_a_placed_order(back_office):
    app = back_office.orders_app
    returning = _shopper()
    await _cart(back_office, returning)
    assert (await _checkout(back_office, returning)).status_code == 201
    await add_promotion(app, name="Welcome", codes=["WELCOME"], conditions={"first_order": True})
    newcomer = _shopper()

    await _cart(back_office, returning, "WELCOME")
    await _cart(back_office, newcomer, "WELCOME")
    theirs = (await back_office.orders.get("/api/v1/cart", headers=returning)).json()["codes"]
    mine = (await back_office.orders.get("/api/v1/cart", headers=newcomer)).json()["codes"]

    assert [(c["applied"], c["reason"]) for c in theirs] == [(False, "first-order-only")]
    assert [(c["applied"], c["reason"]) for c in mine] == [(True, None)]
    placed = await _checkout(back_office, newcomer)
    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] == "WELCOME"


async def test_a_guest_is_never_charged_more_than_the_cart_showed(back_office):
    """A guest's cart is quoted before the e-mail is known: a first-order promotion shows there; at
    checkout the address turns out to have bought before — 409, nothing charged; the cart, knowing the
    address now, shows the total without it, and the next try is charged exactly that."""
    app = back_office.orders_app

    async def guest_checkout(guest: dict[str, str], email: str) -> httpx.Response:
        body = {
            "shipping_address": ADDRESS,
            "payment_method": card_token(sandbox=back_office.sandbox),
            "email": email,
        }
        return await back_office.orders.post(
            "/api/v1/checkout", json=body, headers=guest | {"Idempotency-Key": str(uuid.uuid4())}
        )

    async def guest_cart() -> dict[str, str]:
        guest = {"X-Cart-Token": (await back_office.orders.post("/api/v1/carts")).json()["cart_token"]}
        await _cart(back_office, guest)
        return guest

    first = await guest_checkout(await guest_cart(), "back-again@example.com")
    assert first.status_code == 201 and first.json()["promotions"] == []
    await add_promotion(
        app,
        name="Welcome 15%",
        trigger="automatic",
        conditions={"first_order": True},
        action={"type": "percentage", "percent": "15"},
    )
    guest = await guest_cart()
    shown = (await back_office.orders.get("/api/v1/cart", headers=guest)).json()
    refused = await guest_checkout(guest, "Back-Again@example.com")
    after = (await back_office.orders.get("/api/v1/cart", headers=guest)).json()
    bought = await guest_checkout(guest, "back-again@example.com")

    assert [d["name"] for d in shown["discounts"]] == ["Welcome 15%"]
    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-unavailable")
    assert "first order" in refused.json()["detail"]
    assert (
        after["discounts"] == [] and after["totals"]["total"]["amount"] > shown["totals"]["total"]["amount"]
    )
    assert bought.status_code == 201, bought.text
    assert bought.json()["totals"]["total"] == after["totals"]["total"] and bought.json()["promotions"] == []
    [charge] = await _charges(back_office, bought.json()["id"])
    assert charge["captured"] == after["totals"]["total"]  # charged what the cart showed, to the cent
    newcomer = await guest_cart()
    welcomed = await guest_checkout(newcomer, "first-time@example.com")
    assert welcomed.status_code == 201 and [p["name"] for p in welcomed.json()["promotions"]] == [
        "Welcome 15%"
    ]


async def test_concurrent_checkouts_take_no_more_uses_than_the_limit(back_office):
    app = back_office.orders_app
    promotion_id = await add_promotion(app, name="Two left", codes=["TWOLEFT"], usage_limit=2)
    shoppers = [_shopper() for _ in range(8)]
    for auth in shoppers:  # every cart shows the code applied: each checkout's lookup finds uses left
        await _cart(back_office, auth, "TWOLEFT")

    responses = await asyncio.gather(*(_checkout(back_office, auth) for auth in shoppers))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 2 + [409] * 6, [r.text for r in responses]
    assert all(r.json()["type"].endswith("/promotion-unavailable") for r in responses if r.status_code == 409)
    used = await counters(app, promotion_id)
    assert used["used"] == 2 and len(used["orders"]) == 2
