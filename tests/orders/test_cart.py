"""The server-side cart: prices and availability come from catalog; only the owner sees it."""

from __future__ import annotations

import asyncio

from tests.catalog.factories import create_product, reserve

ALICE = {"x-mercato-customer-id": "cus_01JD0000000000000000000AAA"}
BOB = {"x-mercato-customer-id": "cus_01JD0000000000000000000BBB"}


async def test_a_cart_prices_lines_from_the_catalog_with_tax_and_shipping(shop):
    orders, catalog = shop
    product = await create_product(catalog, price=1500, stock=5)
    small, medium = (v["sku"] for v in product["variants"])

    await orders.post("/api/v1/cart/items", json={"sku": small, "quantity": 2}, headers=ALICE)
    cart = (await orders.post("/api/v1/cart/items", json={"sku": medium}, headers=ALICE)).json()

    assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [(small, 2), (medium, 1)]
    assert cart["lines"][0]["line_total"] == {"amount": 3000, "currency": "EUR"}
    # Germany by default: prices include 19% VAT; standard delivery under the free-shipping threshold.
    assert cart["market"] == {"id": "eu", "currency": "EUR", "prices_include_tax": True}
    assert cart["country"] == "DE"
    assert cart["shipping_method"]["id"] == "shm_eu_standard"
    totals = {name: money["amount"] for name, money in cart["totals"].items()}
    # 5095 x 19/119 = 813.49 → 813, the lines 479 + 255 and the delivery 79 (largest remainder)
    assert totals == {"subtotal": 4600, "discount": 0, "shipping": 495, "tax": 813, "total": 5095}
    assert [(line["tax"]["amount"], line["tax_rate"]) for line in cart["lines"]] == [(479, "19"), (255, "19")]
    assert cart["tax_lines"] == [{"rate": "19", "label": "VAT", "amount": {"amount": 813, "currency": "EUR"}}]
    assert cart["purchasable"] is True
    assert (await orders.get("/api/v1/cart", headers=BOB)).json()["lines"] == []


async def test_adding_again_increases_and_the_cart_never_exceeds_stock(shop):
    orders, catalog = shop
    sku = (await create_product(catalog, stock=3))["variants"][0]["sku"]
    await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=ALICE)
    too_many = await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=ALICE)
    assert too_many.status_code == 409
    assert too_many.json()["unavailable"] == [{"sku": sku, "requested": 4, "available": 3}]
    assert (await orders.get("/api/v1/cart", headers=ALICE)).json()["lines"][0]["quantity"] == 2  # unchanged


async def test_concurrent_adds_of_one_item_all_count(shop):
    orders, catalog = shop
    sku = (await create_product(catalog, stock=50))["variants"][0]["sku"]
    await asyncio.gather(
        *(orders.post("/api/v1/cart/items", json={"sku": sku}, headers=ALICE) for _ in range(10))
    )
    assert (await orders.get("/api/v1/cart", headers=ALICE)).json()["lines"][0]["quantity"] == 10


async def test_a_line_turns_unpurchasable_when_others_reserve_the_stock(shop):
    orders, catalog = shop
    sku = (await create_product(catalog, stock=2))["variants"][0]["sku"]
    await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=ALICE)
    await reserve(catalog, lines=[(sku, 1)])
    cart = (await orders.get("/api/v1/cart", headers=ALICE)).json()
    assert cart["lines"][0]["available"] == 1
    assert cart["purchasable"] is False


async def test_changing_and_removing_lines(shop):
    orders, catalog = shop
    sku = (await create_product(catalog, stock=9))["variants"][0]["sku"]
    await orders.post("/api/v1/cart/items", json={"sku": sku}, headers=ALICE)
    changed = await orders.patch(f"/api/v1/cart/items/{sku}", json={"quantity": 7}, headers=ALICE)
    assert changed.json()["lines"][0]["quantity"] == 7
    assert (
        await orders.delete(f"/api/v1/cart/items/{sku}", headers=BOB)
    ).status_code == 404  # not Bob's line
    assert (await orders.delete(f"/api/v1/cart/items/{sku}", headers=ALICE)).status_code == 204
    assert (await orders.get("/api/v1/cart", headers=ALICE)).json()["item_count"] == 0


async def test_bad_cart_input_is_a_clear_4xx(shop):
    orders, catalog = shop
    sku = (await create_product(catalog, stock=9))["variants"][0]["sku"]
    cases = [
        ("POST", "/api/v1/cart/items", {"sku": "NO-SUCH-SKU", "quantity": 1}, 422),
        ("POST", "/api/v1/cart/items", {"sku": sku, "quantity": 0}, 422),
        ("POST", "/api/v1/cart/items", {"sku": sku, "quantity": 10**9}, 422),
        ("POST", "/api/v1/cart/items", {"sku": sku, "quantity": -1}, 422),
        ("POST", "/api/v1/cart/items", {"sku": "lower case!", "quantity": 1}, 422),
        ("PATCH", f"/api/v1/cart/items/{sku}", {"quantity": 0}, 422),
        ("PATCH", f"/api/v1/cart/items/{sku}", {"quantity": 2}, 404),  # not in the cart
    ]
    for method, path, body, status in cases:
        response = await orders.request(method, path, json=body, headers=ALICE)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await orders.get("/api/v1/cart")).status_code == 401


async def test_checkout_refuses_an_empty_cart_and_a_missing_key(shop):
    orders, _ = shop
    body = {
        "shipping_address": {"name": "A", "line1": "1 St", "city": "C", "postal_code": "1", "country": "DE"},
        "payment_method": "pm_test",
    }
    assert (await orders.post("/api/v1/checkout", json=body, headers=ALICE)).status_code == 400
    empty = await orders.post("/api/v1/checkout", json=body, headers=ALICE | {"Idempotency-Key": "k"})
    assert empty.status_code == 422 and empty.json()["errors"] == {"cart": "is empty"}
    card_number = body | {"payment_method": "4242424242424242"}
    refused = await orders.post(
        "/api/v1/checkout", json=card_number, headers=ALICE | {"Idempotency-Key": "k2"}
    )
    assert refused.status_code == 422  # card numbers are not even accepted as input
