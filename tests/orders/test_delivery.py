"""Where and how the cart goes: the address (and so the market, the tax, the methods offered), the
country picker, the shipping method — each answered with the cart quoted again."""

from __future__ import annotations

from mercato.platform.ids import new_id
from tests.orders.factories import address, priced_products


async def _cart_of(orders, skus: dict[str, str], *items: tuple[str, int]) -> dict[str, str]:
    shopper = {"x-mercato-customer-id": new_id("cus")}
    for kind, quantity in items:
        added = await orders.post(
            "/api/v1/cart/items", json={"sku": skus[kind], "quantity": quantity}, headers=shopper
        )
        assert added.status_code == 200, added.text
    return shopper


async def _offered(orders, shopper: dict[str, str], where: dict) -> list[tuple[str, int]]:
    put = await orders.put("/api/v1/cart/address", json={"shipping_address": where}, headers=shopper)
    assert put.status_code == 200, put.text
    listed = (await orders.get("/api/v1/cart/shipping-methods", headers=shopper)).json()["data"]
    return [(m["id"], m["price"]["amount"]) for m in listed]


async def test_the_methods_offered_change_with_the_address(shop):
    orders, catalog = shop
    skus = await priced_products(catalog)
    shopper = await _cart_of(orders, skus, ("shirt", 1))
    assert await _offered(orders, shopper, address("DE")) == [
        ("shm_eu_standard", 495),
        ("shm_eu_express", 1295),
        ("shm_berlin_collect", 0),
    ]
    assert await _offered(orders, shopper, address("FR", postal_code="75001")) == [
        ("shm_eu_standard", 495),
        ("shm_eu_express", 1295),
    ]
    assert await _offered(orders, shopper, address("GB", postal_code="N1 9GU")) == [
        ("shm_uk_standard", 395),
        ("shm_uk_express", 895),
    ]
    # By value ($21.00 → $7.99) and by weight (300 g → $14.99).
    assert await _offered(orders, shopper, address("US", region="CA", postal_code="94103")) == [
        ("shm_us_standard", 799),
        ("shm_us_express", 1499),
    ]


async def test_delivery_is_free_from_the_threshold(shop):
    orders, catalog = shop
    skus = await priced_products(catalog)
    shopper = await _cart_of(orders, skus, ("shirt", 2), ("book", 1))  # €49.98
    cart = (await orders.get("/api/v1/cart", headers=shopper)).json()
    assert (cart["shipping_method"]["id"], cart["totals"]["shipping"]["amount"]) == ("shm_eu_standard", 495)
    cart = (
        await orders.post("/api/v1/cart/items", json={"sku": skus["book"]}, headers=shopper)
    ).json()  # €59.98
    assert (cart["shipping_method"]["id"], cart["totals"]["shipping"]["amount"]) == ("shm_eu_standard", 0)
    assert cart["totals"]["total"]["amount"] == 5998


async def test_click_and_collect_costs_nothing_and_only_where_it_applies(shop):
    orders, catalog = shop
    skus = await priced_products(catalog)
    shopper = await _cart_of(orders, skus, ("shirt", 1))
    await orders.put("/api/v1/cart/address", json={"shipping_address": address("DE")}, headers=shopper)
    chosen = await orders.put(
        "/api/v1/cart/shipping-method", json={"id": "shm_berlin_collect"}, headers=shopper
    )
    assert chosen.status_code == 200, chosen.text
    cart = chosen.json()
    assert (cart["shipping_method"]["kind"], cart["totals"]["shipping"]["amount"]) == ("click_and_collect", 0)
    assert cart["totals"]["tax"]["amount"] == 319  # the shirt's VAT only: 1999 x 19/119

    # No Berlin shop for France: the cart falls back to the cheapest delivery; collecting cannot be chosen.
    moved = await orders.put(
        "/api/v1/cart/address", json={"shipping_address": address("FR", postal_code="75001")}, headers=shopper
    )
    assert moved.json()["shipping_method"]["id"] == "shm_eu_standard"
    refused = await orders.put(
        "/api/v1/cart/shipping-method", json={"id": "shm_berlin_collect"}, headers=shopper
    )
    assert refused.status_code == 422 and "id" in refused.json()["errors"]


async def test_the_address_sets_the_market_and_is_checked(shop):
    orders, catalog = shop
    skus = await priced_products(catalog)
    shopper = await _cart_of(orders, skus, ("shirt", 1), ("candle", 1))
    billing = address("DE") | {"name": "Another Name"}
    put = await orders.put(
        "/api/v1/cart/address",
        json={"shipping_address": address("GB"), "billing_address": billing},
        headers=shopper,
    )
    cart = put.json()
    assert (cart["country"], cart["market"]["currency"]) == ("GB", "GBP")
    assert cart["billing_address"]["name"] == "Another Name" and cart["shipping_address"]["country"] == "GB"
    # The candle has no price in pounds: shown, not sold there, and the cart cannot be bought as it is.
    candle = next(line for line in cart["lines"] if line["sku"] == skus["candle"])
    assert (candle["unit_price"], candle["purchasable"], cart["purchasable"]) == (None, False, False)
    assert cart["totals"]["subtotal"]["amount"] == 1799

    for where, field in [
        (address("JP"), "shipping_address.country"),
        (address("US"), "shipping_address.region"),
        (address("US", region="Narnia"), "shipping_address.region"),
    ]:
        refused = await orders.put("/api/v1/cart/address", json={"shipping_address": where}, headers=shopper)
        assert refused.status_code == 422 and field in refused.json()["errors"], refused.text
    assert (await orders.get("/api/v1/cart", headers=shopper)).json()["country"] == "GB"  # unchanged


async def test_the_country_picker_quotes_before_an_address_is_known(shop):
    orders, catalog = shop
    skus = await priced_products(catalog)
    shopper = await _cart_of(orders, skus, ("shirt", 1))
    await orders.put("/api/v1/cart/address", json={"shipping_address": address("DE")}, headers=shopper)
    picked = await orders.put("/api/v1/cart/country", json={"country": "us"}, headers=shopper)
    assert picked.status_code == 200, picked.text
    cart = picked.json()
    assert (cart["country"], cart["market"]["id"], cart["shipping_address"]) == ("US", "us", None)
    # No state yet, so no sales tax yet: added once the address says where in the US.
    assert (cart["totals"]["tax"]["amount"], cart["totals"]["total"]["amount"]) == (0, 2100 + 799)
    assert (
        await orders.put("/api/v1/cart/country", json={"country": "JP"}, headers=shopper)
    ).status_code == 422
