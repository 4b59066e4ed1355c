"""The mobile API end to end, as the app uses it: through the real gateway (Envoy: routes, token check,
compression, cache) to the mobile API process and on to the real services. Each screen in one call with
its trimmed content; a whole purchase; the services' problems unchanged; ETag/304; brotli and gzip."""

from __future__ import annotations

import json
import time
import uuid
import zlib

import brotli
import httpx
import pytest

from mercato.platform.ids import new_id

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
CARD = {"id", "slug", "name", "brand", "image", "price", "price_varies", "available"}
CART_LINE = {
    "sku", "product_id", "name", "attributes", "image", "quantity", "unit_price", "line_total", "tax",
    "tax_rate", "available", "purchasable", "list_unit_price", "discount",
}  # fmt: skip
CART = {
    "lines", "market", "totals", "tax_lines", "shipping_method", "item_count", "purchasable", "codes",
    "discounts",
}  # fmt: skip


@pytest.fixture
def shopper(platform, gateway) -> dict[str, str]:
    """A registered, signed-in shopper with one address in the book (the checkout screen shows it)."""
    email = f"mobile-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Mo"}
    )
    token = gateway.post("/api/v1/auth/token", json={"email": email, "password": "correct horse battery"})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    added = gateway.post("/api/v1/me/addresses", json=ADDRESS | {"is_default": True}, headers=auth)
    assert added.status_code == 201, added.text
    return auth


def _wait_until_the_seed_is_indexed(gateway) -> None:
    """After `mercato up`, search first works through the seed's ProductCreated events."""
    deadline = time.monotonic() + 60
    while gateway.get("/api/v1/search").json()["total"] < 228:
        assert time.monotonic() < deadline, "the seeded catalog was not indexed"
        time.sleep(0.2)


def _checkout(gateway, auth, payment_method: str) -> httpx.Response:
    return gateway.post(
        "/mobile/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": payment_method},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )


def _trimmed(cart: dict) -> dict:
    """Orders' cart as the mobile API passes its quote on: every figure unchanged."""
    return {
        "market": {k: cart["market"][k] for k in ("id", "currency", "prices_include_tax")},
        "totals": cart["totals"],
        "tax_lines": [{k: line[k] for k in ("rate", "label", "amount")} for line in cart["tax_lines"]],
        "lines": [(line["sku"], line["line_total"], line["tax"], line["tax_rate"]) for line in cart["lines"]],
    }


def _mobile_quote(cart: dict) -> dict:
    return {
        "market": cart["market"],
        "totals": cart["totals"],
        "tax_lines": cart["tax_lines"],
        "lines": [(line["sku"], line["line_total"], line["tax"], line["tax_rate"]) for line in cart["lines"]],
    }


def test_home_is_the_category_tree_and_featured_cards(gateway):
    home = gateway.get("/mobile/v1/home")
    assert home.status_code == 200
    body = home.json()
    assert [c["slug"] for c in body["categories"]] == [
        c["slug"] for c in gateway.get("/api/v1/categories").json()["data"]
    ]
    assert body["categories"][0]["children"] and set(body["categories"][0]) == {"slug", "name", "children"}
    assert 1 <= len(body["featured"]) <= 8
    assert all(set(card) == CARD for card in body["featured"])
    first = body["featured"][0]
    assert first["image"].startswith("/api/v1/images/")
    assert gateway.get(first["image"]).status_code == 200  # the app prefixes the gateway's URL


def test_a_category_listing_pages_with_a_cursor(gateway):
    first = gateway.get("/mobile/v1/products", params={"category": "women", "limit": 5}).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    assert first["query"] == {"category": "women", "q": None}
    second = gateway.get(
        "/mobile/v1/products", params={"category": "women", "limit": 5, "cursor": first["next_cursor"]}
    ).json()
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}


def test_search_with_a_typo_finds_the_product_with_facets(gateway):
    _wait_until_the_seed_is_indexed(gateway)
    found = gateway.get("/mobile/v1/products", params={"q": "jaket"}).json()
    assert any("Jacket" in card["name"] for card in found["items"])
    assert set(found["facets"]) >= {"colour", "size"}
    assert all(set(card) == CARD for card in found["items"])
    every = gateway.get("/mobile/v1/products", params={"q": "jacket", "limit": 50}).json()["items"]
    olive = gateway.get("/mobile/v1/products", params={"q": "jacket", "colour": "Olive", "limit": 50}).json()
    assert olive["items"] and {c["id"] for c in olive["items"]} < {c["id"] for c in every}
    # facets count every colour as if the colour filter were off (to offer the others), Olive included
    assert {"value": "Olive", "count": len(olive["items"])} in olive["facets"]["colour"]


def test_suggestions_as_the_shopper_types(gateway):
    _wait_until_the_seed_is_indexed(gateway)
    suggestions = gateway.get("/mobile/v1/suggestions", params={"q": "jack"}).json()["suggestions"]
    assert suggestions and all("Jacket" in text for text in suggestions)


def test_search_and_suggestions_are_in_the_market_of_the_country(gateway):
    """Through the gateway to search: pounds for Britain; the candles (not sold in the US, the demo
    catalog's) neither found nor suggested there."""
    _wait_until_the_seed_is_indexed(gateway)
    found = gateway.get("/mobile/v1/products", params={"q": "tshirt", "country": "GB"}).json()["items"]
    assert found and {card["price"]["currency"] for card in found} == {"GBP"}
    candles = {"q": "candle", "limit": 50}
    assert gateway.get("/mobile/v1/products", params=candles | {"country": "DE"}).json()["items"]
    assert gateway.get("/mobile/v1/products", params=candles | {"country": "US"}).json()["items"] == []
    assert gateway.get("/mobile/v1/suggestions", params={"q": "candl", "country": "DE"}).json()["suggestions"]
    assert gateway.get("/mobile/v1/suggestions", params={"q": "candl", "country": "US"}).json() == {
        "suggestions": []
    }


def test_the_products_variants_are_what_the_cart_receives(platform, gateway, shopper):
    product = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()
    web = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()
    assert product["options"] == web["attributes"] and len(product["images"]) == len(web["images"])
    variant = product["variants"][3]
    platform.set_stock(variant["sku"], 5)
    cart = gateway.post(
        "/mobile/v1/cart/items",
        json={"sku": variant["sku"], "quantity": 2},
        headers=shopper | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert cart.status_code == 200, cart.text
    assert set(cart.json()) == CART
    [line] = cart.json()["lines"]
    assert set(line) == CART_LINE
    assert (line["sku"], line["attributes"], line["unit_price"]) == (
        variant["sku"],
        variant["attributes"],
        variant["price"],
    )
    assert line["product_id"] == product["id"] and line["quantity"] == 2
    patched = gateway.patch(f"/mobile/v1/cart/items/{variant['sku']}", json={"quantity": 1}, headers=shopper)
    assert patched.json()["item_count"] == 1
    removed = gateway.delete(f"/mobile/v1/cart/items/{variant['sku']}", headers=shopper)
    assert removed.status_code == 200 and removed.json()["lines"] == []


def test_buy_with_a_tokenised_card_then_see_the_order(platform, gateway, shopper):
    sku = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()["variants"][1]["sku"]
    platform.set_stock(sku, 5)
    gateway.post("/mobile/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=shopper)

    screen = gateway.get("/mobile/v1/checkout", headers=shopper)
    assert screen.status_code == 200, screen.text
    checkout = screen.json()
    assert checkout["cart"]["lines"][0]["sku"] == sku
    assert [a["line1"] for a in checkout["addresses"]] == ["1 Main St"]
    assert checkout["default_address_id"] == checkout["addresses"][0]["id"]
    assert checkout["email"].startswith("mobile-")
    payment = checkout["payment"]
    assert payment["provider"] == "stripe" and payment["publishable_key"].startswith("pk_")
    assert payment["api_base"] == platform.sandbox and set(payment["wallets"]) == {"apple_pay", "google_pay"}

    # Deliver to Berlin: one call answers the screen, quoted there, with the methods that apply.
    chosen = gateway.put("/mobile/v1/checkout/address", json={"shipping_address": ADDRESS}, headers=shopper)
    assert chosen.status_code == 200, chosen.text
    screen = chosen.json()
    assert screen["shipping_address"]["city"] == "Berlin"
    methods = gateway.get("/api/v1/cart/shipping-methods", headers=shopper).json()["data"]
    assert [m["id"] for m in screen["shipping_methods"]] == [m["id"] for m in methods] and methods
    assert _mobile_quote(screen["cart"]) == _trimmed(gateway.get("/api/v1/cart", headers=shopper).json())
    assert screen["cart"]["market"] == {"id": "eu", "currency": "EUR", "prices_include_tax": True}
    assert [line["rate"] for line in screen["cart"]["tax_lines"]] == ["19"]

    # The dearest method: the screen again, its charge in the totals as orders quotes them.
    dearest = max(screen["shipping_methods"], key=lambda m: m["price"]["amount"])
    shipped = gateway.put("/mobile/v1/checkout/shipping-method", json={"id": dearest["id"]}, headers=shopper)
    assert shipped.status_code == 200, shipped.text
    cart = shipped.json()["cart"]
    assert cart["shipping_method"]["id"] == dearest["id"]
    assert cart["totals"]["shipping"] == dearest["price"]
    assert _mobile_quote(cart) == _trimmed(gateway.get("/api/v1/cart", headers=shopper).json())
    refused = gateway.put("/mobile/v1/checkout/shipping-method", json={"id": "no-such"}, headers=shopper)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"

    billing = ADDRESS | {"name": "Ada's Company", "line1": "2 Side St"}
    billed = gateway.put(
        "/mobile/v1/checkout/address", json={"shipping_address": ADDRESS, "billing_address": billing},
        headers=shopper,
    )  # fmt: skip
    assert billed.json()["billing_address"]["line1"] == "2 Side St"
    assert billed.json()["cart"]["shipping_method"]["id"] == dearest["id"]

    placed = gateway.post(
        "/mobile/v1/checkout",
        json={"payment_method": platform.card("4242424242424242")},  # the rest is the cart's
        headers=shopper | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert set(order) == {
        "id", "number", "status", "placed_at", "market", "totals", "tax_lines", "shipping_method", "email",
        "order_url",
    }  # fmt: skip
    assert order["email"] is None and order["order_url"] is None  # a guest's order has them
    assert order["status"] == "placed" and order["number"].startswith("M-")
    assert order["totals"] == cart["totals"] and order["tax_lines"] == cart["tax_lines"]
    assert order["shipping_method"]["id"] == dearest["id"]

    history = gateway.get("/mobile/v1/orders", headers=shopper).json()
    assert history["items"][0]["id"] == order["id"] and history["items"][0]["item_count"] == 1
    assert history["items"][0]["total"] == order["totals"]["total"]
    assert history["items"][0]["image"] == checkout["cart"]["lines"][0]["image"]
    detail = gateway.get(f"/mobile/v1/orders/{order['id']}", headers=shopper).json()
    web = gateway.get(f"/api/v1/orders/{order['id']}", headers=shopper).json()
    assert [step["status"] for step in detail["timeline"]] == ["pending_payment", "placed"]
    assert detail["tracking"] is None and detail["can_cancel"] is True
    assert detail["lines"][0]["sku"] == sku and detail["shipping_address"]["city"] == "Berlin"
    assert detail["billing_address"]["line1"] == "2 Side St"
    assert detail["totals"] == web["totals"] == order["totals"]
    assert detail["tax_lines"] == order["tax_lines"]
    assert [(line["tax"], line["tax_rate"]) for line in detail["lines"]] == [
        (line["tax"], line["tax_rate"]) for line in web["lines"]
    ]
    assert detail["shipping_method"]["name"] == dearest["name"]
    assert detail["invoice_url"] == web.get("invoice_url")
    assert gateway.get("/mobile/v1/cart", headers=shopper).json()["lines"] == []


def test_the_quote_follows_the_address_into_another_market(platform, gateway, shopper):
    """A US address: dollars, tax on top of the prices (a Tax line), the methods offered there."""
    sku = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    platform.set_stock(sku, 5)
    gateway.post("/mobile/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper)
    berlin = gateway.put("/mobile/v1/checkout/address", json={"shipping_address": ADDRESS}, headers=shopper)
    new_york = ADDRESS | {"city": "New York", "postal_code": "10001", "region": "NY", "country": "US"}
    us = gateway.put("/mobile/v1/checkout/address", json={"shipping_address": new_york}, headers=shopper)
    assert us.status_code == 200, us.text
    cart = us.json()["cart"]
    assert cart["market"] == {"id": "us", "currency": "USD", "prices_include_tax": False}
    assert {line["unit_price"]["currency"] for line in cart["lines"]} == {"USD"}
    totals = cart["totals"]
    assert totals["total"]["amount"] == (
        totals["subtotal"]["amount"] - totals["discount"]["amount"] + totals["shipping"]["amount"]
        + totals["tax"]["amount"]
    )  # fmt: skip
    assert _mobile_quote(cart) == _trimmed(gateway.get("/api/v1/cart", headers=shopper).json())
    assert {m["id"] for m in us.json()["shipping_methods"]} != {
        m["id"] for m in berlin.json()["shipping_methods"]
    }


def test_a_declined_card_is_the_402_orders_answers(platform, gateway, shopper):
    sku = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()["variants"][2]["sku"]
    platform.set_stock(sku, 5)
    gateway.post("/mobile/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=shopper)
    declined = _checkout(gateway, shopper, platform.card("4000000000000002"))
    assert declined.status_code == 402
    assert declined.headers["content-type"] == "application/problem+json"
    assert declined.json()["type"].endswith("/payment-declined")


def test_sold_out_is_the_409_orders_answers(platform, gateway, shopper):
    sku = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()["variants"][4]["sku"]
    platform.set_stock(sku, 3)
    gateway.post("/mobile/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper)
    platform.set_stock(sku, 0)
    sold_out = _checkout(gateway, shopper, platform.card("4242424242424242"))
    assert sold_out.status_code == 409, sold_out.text
    assert sold_out.headers["content-type"] == "application/problem+json"
    cart = gateway.get("/mobile/v1/cart", headers=shopper).json()
    assert cart["purchasable"] is False and cart["lines"][0]["available"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/mobile/v1/cart"),
        ("POST", "/mobile/v1/cart/items"),
        ("GET", "/mobile/v1/checkout"),
        ("PUT", "/mobile/v1/checkout/address"),
        ("PUT", "/mobile/v1/checkout/shipping-method"),
        ("POST", "/mobile/v1/checkout"),
        ("GET", "/mobile/v1/orders"),
        ("GET", "/mobile/v1/orders/ord_1"),
    ],
)
def test_shopper_screens_need_a_token(gateway, method, path):
    refused = gateway.request(method, path, json={})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_reads_answer_304_to_the_etag_the_app_has(platform, gateway):
    auth = platform.token_for(new_id("cus"))
    for path, headers in [
        ("/mobile/v1/home", {}),
        ("/mobile/v1/products/classic-cotton-t-shirt", {}),
        ("/mobile/v1/cart", auth),
    ]:
        first = gateway.get(path, headers=headers)
        etag = first.headers["etag"]
        assert etag.startswith('W/"'), path
        again = gateway.get(path, headers=headers | {"If-None-Match": etag, "Accept-Encoding": "br"})
        assert again.status_code == 304 and again.content == b"", path
    assert first.headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_answers_are_compressed_as_the_phone_asks(platform, gateway, encoding):
    auth = platform.token_for(new_id("cus"))
    for path, headers in [
        ("/mobile/v1/home", {}),
        ("/mobile/v1/products?q=jacket", {}),
        ("/mobile/v1/orders", auth),
    ]:
        with gateway.stream("GET", path, headers=headers | {"Accept-Encoding": encoding}) as response:
            raw = b"".join(response.iter_raw())
        plain = gateway.get(path, headers=headers | {"Accept-Encoding": "identity"})
        if len(plain.content) < 256:  # too small to be worth it (an empty history)
            assert "content-encoding" not in response.headers
            continue
        assert response.headers["content-encoding"] == encoding, path
        body = brotli.decompress(raw) if encoding == "br" else zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        assert json.loads(body) == plain.json() and len(raw) < len(plain.content) / 2, path


def test_devices_go_to_notifications_not_the_mobile_api(platform, gateway):
    auth = platform.token_for(new_id("cus"))
    registered = gateway.post(
        "/mobile/v1/devices", json={"platform": "android", "token": "fcm-" + uuid.uuid4().hex}, headers=auth
    )
    assert registered.status_code == 201, registered.text
