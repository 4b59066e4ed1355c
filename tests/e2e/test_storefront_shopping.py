"""Shopping in the web storefront, as a browser without JavaScript would (httpx with a cookie jar): the
session in cookies, CSRF on every form, cart, checkout with a card tokenised at the provider, orders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Inputs(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def csrf(client: httpx.Client, path: str = "/") -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client: httpx.Client, path: str, data: dict[str, str], page: str = "/") -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def register(client: httpx.Client) -> str:
    email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
    response = post(client, "/register", {"name": "Ada", "email": email, "password": PASSWORD}, "/register")
    assert response.status_code == 303, response.text
    return email


@pytest.fixture
def shopper(platform) -> Iterator[httpx.Client]:
    """A signed-in shopper with an empty cart."""
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        register(client)
        yield client


def in_stock_sku(gateway: httpx.Client) -> dict:
    product = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()
    return next(v for v in product["variants"] if v["available"] > 2)


def test_register_and_login_set_httponly_samesite_cookies(platform):
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        email = register(client)
        client.cookies.delete("mercato_access")
        client.cookies.delete("mercato_refresh")
        wrong = post(client, "/login", {"email": email, "password": "nope", "next": "/"}, "/login")
        assert wrong.status_code == 401 and "don&#39;t match" in wrong.text
        response = post(client, "/login", {"email": email, "password": PASSWORD, "next": "/orders"}, "/login")
        assert response.status_code == 303 and response.headers["location"] == "/orders"
        cookies = set_cookies(response)
        for name in ("mercato_access", "mercato_refresh"):
            attributes = cookies[name].lower()
            assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
            assert "secure" not in attributes  # plain http here; Secure under https
        assert client.get("/orders").status_code == 200


def test_a_post_without_a_valid_csrf_token_is_refused(shopper, gateway):
    sku = in_stock_sku(gateway)["sku"]
    for token in (None, "forged.0000", csrf(shopper) + "x"):
        data = {"sku": sku, "quantity": "1"} | ({"csrf_token": token} if token else {})
        response = shopper.post("/cart/items", data=data)
        assert response.status_code == 403 and "Traceback" not in response.text
    assert "Your cart is empty" in shopper.get("/cart").text


def test_add_to_cart_change_quantity_and_remove(shopper, gateway):
    variant = in_stock_sku(gateway)
    product_page = shopper.get("/p/classic-cotton-t-shirt", params=variant["attributes"]).text
    assert 'action="/cart/items"' in product_page and "Add to cart" in product_page
    response = post(shopper, "/cart/items", {"sku": variant["sku"], "quantity": "2"})
    assert response.status_code == 303 and response.headers["location"] == "/cart"
    cart = shopper.get("/cart")
    api_cart = gateway.get("/api/v1/cart", headers=bearer(shopper)).json()
    totals = api_cart["totals"]
    assert (
        variant["sku"] in cart.text
        and totals["total"]["amount"] == 2 * variant["price"]["amount"] + totals["shipping"]["amount"]
    )
    assert money(totals["total"]) in cart.text
    assert "incl. VAT 19%" in cart.text and money(totals["tax"]) in cart.text
    assert cart.headers["cache-control"] == "no-store"
    post(shopper, f"/cart/items/{variant['sku']}", {"quantity": "1"}, "/cart")
    api_cart = gateway.get("/api/v1/cart", headers=bearer(shopper)).json()
    assert api_cart["lines"][0]["quantity"] == 1
    assert money(api_cart["totals"]["total"]) in shopper.get("/cart").text
    post(shopper, f"/cart/items/{variant['sku']}", {"quantity": "0"}, "/cart")
    assert "Your cart is empty" in shopper.get("/cart").text


def bearer(client: httpx.Client) -> dict[str, str]:
    return {"authorization": f"Bearer {client.cookies['mercato_access']}"}


def money(amount: dict) -> str:
    assert amount["currency"] == "EUR"
    return f"€{amount['amount'] // 100:,}.{amount['amount'] % 100:02d}"


def checkout_form(client: httpx.Client, pm: str) -> dict[str, str]:
    page = client.get("/checkout")
    assert page.status_code == 200
    inputs = Inputs(page.text).inputs
    key = next(i["value"] for i in inputs if i.get("name") == "idempotency_key")
    return {
        "csrf_token": CSRF.search(page.text).group(1),
        "idempotency_key": key,
        "address_id": "new",
        "name": "Ada Lovelace",
        "line1": "1 Main St",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "payment_method": pm,
    }


def test_checkout_page_card_inputs_are_never_submitted(shopper, gateway):
    post(shopper, "/cart/items", {"sku": in_stock_sku(gateway)["sku"], "quantity": "1"})
    page = shopper.get("/checkout")
    cards = [i for i in Inputs(page.text).inputs if (i.get("id") or "").startswith("card-")]
    assert len(cards) == 4 and all("name" not in i for i in cards)
    assert "/static/checkout.js" in page.text
    assert platform_sandbox(page) in page.headers["content-security-policy"]


def platform_sandbox(page: httpx.Response) -> str:
    return re.search(r'data-sandbox="([^"]+)"', page.text).group(1)


def test_declined_card_then_a_good_card_buys_once(platform, shopper, gateway):
    variant = in_stock_sku(gateway)
    post(shopper, "/cart/items", {"sku": variant["sku"], "quantity": "1"})
    declined = shopper.post("/checkout", data=checkout_form(shopper, platform.card("4000000000000002")))
    assert declined.status_code == 402 and "Your card was declined" in declined.text
    assert "nothing was charged" in declined.text
    assert "No orders yet" in shopper.get("/orders").text

    form = checkout_form(shopper, platform.card())
    placed = shopper.post("/checkout", data=form)
    assert placed.status_code == 303, placed.text
    location = placed.headers["location"]
    order_id = location.rsplit("/", 1)[-1]
    assert location == f"/orders/{order_id}" and order_id.startswith("ord_")
    again = shopper.post("/checkout", data=form)  # a double submit: the same order, charged once
    assert again.status_code == 303 and again.headers["location"] == location
    confirmation = shopper.get(location)
    assert confirmation.status_code == 200 and order_id in confirmation.text
    assert variant["sku"] in gateway.get(f"/api/v1/orders/{order_id}", headers=bearer(shopper)).text
    assert "Thank you" in confirmation.text and "Cancel this order" in confirmation.text
    history = shopper.get("/orders").text
    assert history.count("/orders/ord_") == 1 and order_id in history

    cancelled = post(shopper, f"/orders/{order_id}/cancel", {}, location)
    assert cancelled.status_code == 303
    assert gateway.get(f"/api/v1/orders/{order_id}", headers=bearer(shopper)).json()["state"] in (
        "cancelled",
        "refunded",
    )


def test_an_expired_access_token_is_refreshed_transparently(shopper):
    refresh = shopper.cookies["mercato_refresh"]
    shopper.cookies.set("mercato_access", "garbage", domain="127.0.0.1", path="/")
    response = shopper.get("/orders")
    assert response.status_code == 200 and "Your orders" in response.text
    cookies = set_cookies(response)
    assert "mercato_access" in cookies and "garbage" not in cookies["mercato_access"]
    assert shopper.cookies["mercato_refresh"] != refresh  # rotated
    assert shopper.get("/cart").status_code == 200


def test_logout_clears_the_session(shopper):
    response = post(shopper, "/logout", {})
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert all(
        '=""' in cookies[name] or "max-age=0" in cookies[name].lower()
        for name in ("mercato_access", "mercato_refresh")
    )
    assert "mercato_access" not in shopper.cookies
    response = shopper.get("/orders")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Forders")
