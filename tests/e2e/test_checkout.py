"""The synchronous order path end to end: real Envoy, real service processes, the real Stripe SDK
against the provider sandbox."""

from __future__ import annotations

import concurrent.futures
import re
import time
import uuid

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
SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}


def _customer(platform) -> dict[str, str]:
    return platform.token_for(new_id("cus"))


def _sku_with_stock(
    platform, gateway, *, stock: int, slug: str = "classic-cotton-t-shirt", index: int = 0
) -> str:
    """A demo variant with exactly `stock` units available."""
    sku = gateway.get(f"/api/v1/products/{slug}").json()["variants"][index]["sku"]
    platform.set_stock(sku, stock)
    return sku


def _checkout(
    gateway, auth, payment_method: str, key: str | None = None, address: dict = ADDRESS
) -> httpx.Response:
    return gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": address, "payment_method": payment_method},
        headers=auth | {"Idempotency-Key": key or uuid.uuid4().hex},
    )


def _intents_for(platform, order_id: str) -> list[dict]:
    found = httpx.get(
        f"{platform.sandbox}/v1/payment_intents/search",
        headers=SANDBOX_KEY,
        params={"query": f"metadata['order_id']:'{order_id}'"},
    )
    return found.json()["data"]


def test_register_add_to_cart_pay_and_see_the_order_in_history(platform, gateway):
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Buyer"}
    )
    token = gateway.post(
        "/api/v1/auth/token", json={"email": email, "password": "correct horse battery"}
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    sku = _sku_with_stock(platform, gateway, stock=5)

    cart = gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=auth)
    assert cart.status_code == 200 and cart.json()["item_count"] == 2

    response = _checkout(gateway, auth, platform.card("4242424242424242"))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["state"] == "placed"
    assert order["payment"]["status"] == "captured"
    assert (order["payment"]["card_brand"], order["payment"]["card_last4"]) == ("visa", "4242")
    assert order["total"]["amount"] == order["subtotal"]["amount"] + order["shipping"]["amount"]
    assert [h["state"] for h in order["history"]] == ["pending_payment", "placed"]

    assert re.fullmatch(r"M-[1-9][0-9]{4,}", order["number"]), order["number"]
    history = gateway.get("/api/v1/orders", headers=auth).json()["data"]
    assert history[0]["id"] == order["id"] and history[0]["item_count"] == 2
    assert history[0]["number"] == order["number"]
    detail = gateway.get(f"/api/v1/orders/{order['id']}", headers=auth).json()
    assert detail["lines"][0]["sku"] == sku and detail["payment"]["card_last4"] == "4242"
    assert gateway.get("/api/v1/cart", headers=auth).json()["lines"] == []
    assert platform.available(sku) == 3
    captured = [i for i in _intents_for(platform, order["id"]) if i["status"] == "succeeded"]
    assert len(captured) == 1 and captured[0]["amount"] == order["total"]["amount"]
    confirmation = _wait_for_mail(platform, email, "is confirmed")  # through the broker and SMTP
    assert confirmation["subject"] == f"Your order {order['number']} is confirmed"
    assert f"/orders/{order['id']}" in confirmation["text"]


def _wait_for_mail(platform, email: str, subject: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "subject": subject}
        ).json()["data"]
        if found:
            return found[0]
        time.sleep(0.25)
    raise AssertionError(f"no e-mail to {email} about {subject!r}")


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds")],
)
def test_a_declined_card_is_402_and_the_stock_is_back(platform, gateway, card, decline_code):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=4)
    gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 3}, headers=auth)

    response = _checkout(gateway, auth, platform.card(card))

    assert response.status_code == 402, response.text
    assert response.json()["decline_code"] == decline_code
    assert platform.available(sku) == 4
    assert gateway.get("/api/v1/orders", headers=auth).json()["data"] == []
    assert gateway.get("/api/v1/cart", headers=auth).json()["item_count"] == 3  # the cart is kept to retry


def _wallet_payment_method(platform, wallet: str) -> str:
    """What the app does with a wallet: a token at the provider (Apple Pay's payment data, or the token
    Google Pay hands over), then a card PaymentMethod from it, both with the publishable key."""
    publishable = {"Authorization": "Bearer pk_test_mercato_sandbox"}
    if wallet == "apple_pay":
        token = httpx.post(
            f"{platform.sandbox}/v1/tokens",
            headers=publishable,
            data={"pk_token": "eyJ2ZXJzaW9uIjoiRUNfdjEifQ==", "pk_token_payment_network": "Visa"},
        ).json()
    else:
        token = httpx.post(f"{platform.sandbox}/_sandbox/wallets/google_pay", headers=publishable).json()
    method = httpx.post(
        f"{platform.sandbox}/v1/payment_methods",
        headers=publishable,
        data={"type": "card", "card[token]": token["id"]},
    ).json()
    return method["id"]


@pytest.mark.parametrize("wallet", ["apple_pay", "google_pay"])
def test_a_wallet_pays_like_a_card(platform, gateway, wallet):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=3)
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth)

    response = _checkout(gateway, auth, _wallet_payment_method(platform, wallet))

    assert response.status_code == 201, response.text
    [intent] = _intents_for(platform, response.json()["id"])
    assert intent["status"] == "succeeded"
    method = httpx.get(
        f"{platform.sandbox}/v1/payment_methods/{intent['payment_method']}", headers=SANDBOX_KEY
    )
    assert method.json()["card"]["wallet"]["type"] == wallet
    assert platform.available(sku) == 2


def test_replaying_a_checkout_returns_the_same_order_and_charges_once(platform, gateway):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=5)
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth)
    card = platform.card()

    first = _checkout(gateway, auth, card, key="same-key")
    replay = _checkout(gateway, auth, card, key="same-key")
    other_body = _checkout(gateway, auth, card, key="same-key", address=ADDRESS | {"city": "Paris"})

    assert (first.status_code, replay.status_code, other_body.status_code) == (201, 201, 409)
    assert replay.json()["id"] == first.json()["id"]
    assert len(_intents_for(platform, first.json()["id"])) == 1
    assert platform.available(sku) == 4


def test_another_customers_order_is_404(platform, gateway):
    alice, bob = _customer(platform), _customer(platform)
    gateway.post(
        "/api/v1/cart/items", json={"sku": _sku_with_stock(platform, gateway, stock=5)}, headers=alice
    )
    order = _checkout(gateway, alice, platform.card()).json()
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=bob).status_code == 404
    assert gateway.post(f"/api/v1/orders/{order['id']}/cancel", headers=bob).status_code == 404
    assert gateway.get("/api/v1/orders/ord_does_not_exist", headers=alice).status_code == 404


def test_cancelling_before_shipping_refunds_the_payment(platform, gateway):
    auth = _customer(platform)
    gateway.post(
        "/api/v1/cart/items", json={"sku": _sku_with_stock(platform, gateway, stock=5)}, headers=auth
    )
    order = _checkout(gateway, auth, platform.card()).json()

    cancelled = gateway.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "refunded"
    assert [h["state"] for h in cancelled.json()["history"]] == [
        "pending_payment",
        "placed",
        "cancelled",
        "refunded",
    ]
    assert cancelled.json()["payment"]["refunded"]["amount"] == order["total"]["amount"]
    assert _kept_by_merchant(platform, _intents_for(platform, order["id"])[0]) == 0
    again = gateway.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth)
    assert again.status_code == 409  # refunded is final
    assert gateway.post(f"/api/v1/orders/{order['id']}/return", headers=auth).status_code == 409


def test_bad_checkout_input_is_a_clear_4xx(platform, gateway):
    auth = _customer(platform)
    gateway.post(
        "/api/v1/cart/items", json={"sku": _sku_with_stock(platform, gateway, stock=5)}, headers=auth
    )
    cases = [
        ({"shipping_address": ADDRESS, "payment_method": "4242424242424242"}, 422),  # a card number: refused
        ({"shipping_address": ADDRESS | {"country": "Germany"}, "payment_method": "pm_x"}, 422),
        ({"shipping_address": ADDRESS}, 422),
    ]
    for body, status in cases:
        response = gateway.post(
            "/api/v1/checkout", json=body, headers=auth | {"Idempotency-Key": uuid.uuid4().hex}
        )
        assert response.status_code == status, (body, response.text)
    unknown_method = _checkout(gateway, auth, "pm_doesnotexist")
    assert unknown_method.status_code == 402
    for quantity in (0, 10**9):
        assert (
            gateway.post(
                "/api/v1/cart/items", json={"sku": "WTS-CCT01-BLK-XS", "quantity": quantity}, headers=auth
            ).status_code
            == 422
        )
    assert gateway.post("/api/v1/cart/items", json={"sku": "NO-SUCH-SKU"}, headers=auth).status_code == 422
    assert gateway.post("/api/v1/checkout", json={}, headers={"Idempotency-Key": "x"}).status_code == 401


def test_100_concurrent_checkouts_for_10_units_sell_exactly_10(platform, gateway):
    sku = _sku_with_stock(platform, gateway, stock=10, slug="classic-cotton-t-shirt", index=1)
    shoppers = [_customer(platform) for _ in range(100)]
    for auth in shoppers:
        assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    card = platform.card()

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        responses = list(pool.map(lambda auth: _checkout(gateway, auth, card), shoppers))

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10 and statuses.count(409) == 90, statuses
    assert all(r.json()["title"] for r in responses if r.status_code == 409)
    orders = [r.json()["id"] for r in responses if r.status_code == 201]
    captured = [i for order in orders for i in _intents_for(platform, order) if i["status"] == "succeeded"]
    assert len(captured) == 10
    assert platform.available(sku) == 0


@pytest.mark.parametrize("tabs", [2, 5, 20])
def test_one_cart_checked_out_from_several_tabs_at_once_is_one_order_and_one_charge(platform, gateway, tabs):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=50, slug="classic-cotton-t-shirt", index=2)
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    card = platform.card()
    before = {i["id"] for i in _recent_intents(platform)}

    # Two tabs, a double tap: each request carries its own Idempotency-Key.
    with concurrent.futures.ThreadPoolExecutor(max_workers=tabs) as pool:
        responses = list(pool.map(lambda _: _checkout(gateway, auth, card), range(tabs)))

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and 201 in statuses, [r.text for r in responses]
    placed = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(placed) == 1, statuses  # a loser gets the winner's order or a 409, never an order of its own
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["title"] and refused["detail"]
    assert [o["id"] for o in gateway.get("/api/v1/orders", headers=auth).json()["data"]] == list(placed)
    charged = [i for i in _recent_intents(platform) if i["id"] not in before and i["amount_received"]]
    assert len(charged) == 1
    assert platform.available(sku) == 49
    assert gateway.get("/api/v1/cart", headers=auth).json()["lines"] == []


def _recent_intents(platform) -> list[dict]:
    return httpx.get(
        f"{platform.sandbox}/v1/payment_intents", headers=SANDBOX_KEY, params={"limit": 100}
    ).json()["data"]


def _kept_by_merchant(platform, intent: dict) -> int:
    """What the provider actually took from the card and kept: captured minus refunded."""
    refunded = sum(
        r["amount"]
        for r in httpx.get(
            f"{platform.sandbox}/v1/refunds", headers=SANDBOX_KEY, params={"payment_intent": intent["id"]}
        ).json()["data"]
    )
    return intent["amount_received"] - refunded


def test_a_provider_timeout_after_capture_leaves_no_order_and_no_capture(platform, gateway):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=5)
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth)
    before = {i["id"] for i in _recent_intents(platform)}
    # The provider captures the money, then never answers: the worst moment for a timeout.
    fault = {"path_prefix": "/v1/payment_intents", "mode": "hang", "after": True, "count": 1}
    assert (
        httpx.post(f"{platform.sandbox}/_sandbox/faults", json=fault, headers=SANDBOX_KEY).status_code < 300
    )
    try:
        response = _checkout(gateway, auth, platform.card())
    finally:
        httpx.delete(f"{platform.sandbox}/_sandbox/faults", headers=SANDBOX_KEY)

    assert response.status_code == 503, response.text
    assert gateway.get("/api/v1/orders", headers=auth).json()["data"] == []
    assert platform.available(sku) == 5
    mine = [i for i in _recent_intents(platform) if i["id"] not in before]
    assert mine, "the checkout should have reached the provider"
    assert [_kept_by_merchant(platform, i) for i in mine] == [0] * len(mine)


def test_orders_killed_between_capture_and_commit_recovers_by_itself(platform, gateway):
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=5)
    gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=auth)
    crash_file = platform.var_dir / "crash-orders-after-capture"
    crash_file.touch()  # arms the hook: the orders process SIGKILLs itself after the capture

    died = _checkout(gateway, auth, platform.card(), key="crash-key")
    assert died.status_code in (502, 503), died.text
    assert not crash_file.exists()

    deadline, order = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        response = gateway.get("/api/v1/orders", headers=auth)  # 503 while the supervisor restarts orders
        orders = response.json()["data"] if response.status_code == 200 else []
        if orders and orders[0]["state"] == "placed":
            order = orders[0]
            break
        time.sleep(0.3)
    assert order is not None, "the reconciler did not place the interrupted order"

    captured = [i for i in _intents_for(platform, order["id"]) if i["status"] == "succeeded"]
    assert len(captured) == 1
    reservation = httpx.get(f"{platform.service_url('catalog')}/internal/reservations/{order['id']}").json()
    assert reservation["status"] == "committed"
    assert platform.available(sku) == 3  # committed exactly once, nothing left reserved
    replay = _checkout(gateway, auth, "pm_unused", key="crash-key")
    assert replay.status_code == 409  # same key, different body
