"""Ending sessions through the real platform: after erasure, "sign out everywhere" or a password
change, no service accepts the customer's existing tokens — customers at once, orders as soon as the
`CustomerSessionsRevoked` event reaches it (the tests poll briefly for that; see docs/security.md)."""

from __future__ import annotations

import time
import uuid

import httpx

PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple staple giraffe"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}
EVENT_DEADLINE_SECONDS = 10.0


def _register(gateway) -> str:
    email = f"sessions-{uuid.uuid4().hex[:10]}@example.com"
    created = gateway.post("/api/v1/customers", json={"email": email, "password": PASSWORD, "name": "Ada"})
    assert created.status_code == 201, created.text
    return email


def _sign_in(gateway, email: str, password: str = PASSWORD) -> dict:
    response = gateway.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def _auth(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _sku(platform, gateway) -> str:
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][1]["sku"]
    platform.set_stock(sku, 50)
    return sku


def _checkout(gateway, auth, payment_method: str) -> httpx.Response:
    return gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": payment_method},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )


def _until_refused(gateway, auth: dict[str, str], path: str = "/api/v1/cart") -> httpx.Response:
    """Orders learns of ended sessions from an event: wait (briefly) until it refuses the token."""
    deadline = time.monotonic() + EVENT_DEADLINE_SECONDS
    while True:
        response = gateway.get(path, headers=auth)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def _intent_ids(platform) -> set[str]:
    intents = httpx.get(f"{platform.sandbox}/v1/payment_intents", headers=SANDBOX_KEY, params={"limit": 100})
    return {i["id"] for i in intents.json()["data"]}


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_after_erasure_the_old_token_neither_adds_to_the_cart_nor_checks_out(platform, gateway):
    email = _register(gateway)
    tokens = _sign_in(gateway, email)
    auth = _auth(tokens)
    sku = _sku(platform, gateway)
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    placed = _checkout(gateway, auth, platform.card())
    assert placed.status_code == 201, placed.text
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    intents_before = _intent_ids(platform)

    assert gateway.delete("/api/v1/me", headers=auth).status_code == 204

    _refused(_until_refused(gateway, auth))
    _refused(gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth))
    _refused(_checkout(gateway, auth, platform.card()))
    _refused(gateway.get("/api/v1/orders", headers=auth))
    _refused(gateway.get("/api/v1/me", headers=auth))
    _refused(gateway.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    assert _intent_ids(platform) == intents_before  # nothing was charged after the erasure
    # The order placed before the erasure keeps only its country; the cart is gone.
    order_id = placed.json()["id"]
    seen = httpx.get(
        f"{platform.service_url('orders')}/admin/v1/orders/{order_id}",
        headers=platform.staff_headers("support"),
    ).json()
    assert seen["shipping_address"] == {"country": "DE", "erased": True}


def test_sign_out_everywhere_ends_every_session_and_a_new_sign_in_works_at_once(platform, gateway):
    email = _register(gateway)
    laptop, phone = _sign_in(gateway, email), _sign_in(gateway, email)
    assert gateway.get("/api/v1/cart", headers=_auth(phone)).status_code == 200

    assert gateway.post("/api/v1/auth/logout-all", headers=_auth(laptop)).status_code == 204

    for tokens in (laptop, phone):
        _refused(gateway.get("/api/v1/me", headers=_auth(tokens)))  # customers: at once
        _refused(_until_refused(gateway, _auth(tokens)))  # orders: once the event arrived
        _refused(gateway.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    _refused(gateway.post("/api/v1/auth/logout-all", headers=_auth(laptop)))
    # Signing in again, even within the same second, gives a session that works everywhere.
    again = _auth(_sign_in(gateway, email))
    assert gateway.get("/api/v1/me", headers=again).status_code == 200
    assert gateway.get("/api/v1/cart", headers=again).status_code == 200


def test_password_change_ends_every_session_and_needs_the_current_password(platform, gateway):
    email = _register(gateway)
    tokens = _sign_in(gateway, email)
    auth = _auth(tokens)

    wrong = gateway.post(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=auth,
    )
    assert wrong.status_code == 403 and wrong.json()["errors"] == {"current_password": "is not correct"}
    weak = gateway.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=auth
    )
    assert weak.status_code == 422 and "new_password" in weak.json()["errors"]
    assert gateway.get("/api/v1/me", headers=auth).status_code == 200  # neither ended anything

    changed = gateway.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=auth
    )
    assert changed.status_code == 204, changed.text

    _refused(gateway.get("/api/v1/me", headers=auth))
    _refused(_until_refused(gateway, auth))
    _refused(gateway.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    _refused(gateway.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}))
    fresh = _auth(_sign_in(gateway, email, NEW_PASSWORD))
    assert gateway.get("/api/v1/cart", headers=fresh).status_code == 200
