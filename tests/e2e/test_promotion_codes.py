"""Promotion codes end to end: real Envoy, every service its own process, the provider sandbox. Usage
limits hold under concurrency — 50 shoppers racing for the last 10 uses of a code: exactly 10 orders
carry it, the 40 others are refused with 409 promotion-unavailable before anything is charged — and a
generated single-use code is used once."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import time
import uuid

import httpx

from mercato.platform.ids import new_id

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}


def _admin(platform, method: str, path: str, **kwargs) -> httpx.Response:
    """The back office's promotions routes on orders' private port, as a merchandiser."""
    return httpx.request(
        method,
        f"{platform.service_url('orders')}/admin/v1{path}",
        headers=platform.staff_headers("merchandising"),
        timeout=10,
        **kwargs,
    )


def _promotion(platform, **fields) -> dict:
    body = {"name": "Race ten", "trigger": "code", "action": {"type": "percentage", "percent": "10"}} | fields
    created = _admin(platform, "POST", "/promotions", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _sku(platform, gateway, *, stock: int) -> str:
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][3]["sku"]
    platform.set_stock(sku, stock)
    return sku


def _shopper_with(platform, gateway, sku: str, code: str) -> dict[str, str]:
    auth = platform.token_for(new_id("cus"))
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    entered = gateway.post("/api/v1/cart/codes", json={"code": code}, headers=auth)
    assert entered.status_code == 200, entered.text
    return auth


def _checkout(gateway, auth: dict[str, str], card: str) -> httpx.Response:
    return gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": card},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
        timeout=60,
    )


def _intents(platform) -> list[dict]:
    return httpx.get(
        f"{platform.sandbox}/v1/payment_intents", headers=SANDBOX_KEY, params={"limit": 100}
    ).json()["data"]


def test_50_shoppers_racing_for_the_last_10_uses_of_a_code(platform, gateway):
    code = f"RACE{uuid.uuid4().hex[:8].upper()}"
    promotion = _promotion(platform, codes=[code], usage_limit=12)
    sku = _sku(platform, gateway, stock=100)
    card = platform.card()
    for _ in range(2):  # two uses gone already: ten left
        early = _checkout(gateway, _shopper_with(platform, gateway, sku, code), card)
        assert early.status_code == 201, early.text
    shoppers = [_shopper_with(platform, gateway, sku, code) for _ in range(50)]
    before = {i["id"] for i in _intents(platform)}

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda auth: _checkout(gateway, auth, card), shoppers))

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10 and statuses.count(409) == 40, statuses
    placed = [r.json() for r in responses if r.status_code == 201]
    assert all([p["code"] for p in order["promotions"]] == [code] for order in placed)
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["type"].endswith("/promotion-unavailable"), refused
        assert refused["code"] == code and "not been charged" in refused["detail"]
    new = [i for i in _intents(platform) if i["id"] not in before]
    assert len(new) == 10 and all(i["status"] == "succeeded" for i in new)  # no intent for the 40
    assert sorted(i["metadata"]["order_id"] for i in new) == sorted(o["id"] for o in placed)
    assert _admin(platform, "GET", f"/promotions/{promotion['id']}").json()["used"] == 12
    assert platform.available(sku) == 100 - 12  # the losers' reservations are back
    loser = next(auth for auth, r in zip(shoppers, responses, strict=True) if r.status_code == 409)
    cart = gateway.get("/api/v1/cart", headers=loser).json()
    assert [(c["code"], c["applied"], c["reason"]) for c in cart["codes"]] == [
        (code, False, "usage-exhausted")
    ]
    assert gateway.get("/api/v1/orders", headers=loser).json()["data"] == []


def test_a_generated_single_use_code_is_used_once(platform, gateway):
    promotion = _promotion(platform, name="Welcome", codes=[])
    batch = _admin(platform, "POST", f"/promotions/{promotion['id']}/code-batches", json={"count": 3})
    assert batch.status_code == 202, batch.text
    path = f"/promotions/{promotion['id']}/code-batches/{batch.json()['id']}"
    deadline = time.monotonic() + 20
    while _admin(platform, "GET", path).json()["state"] != "done":
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.2)
    code = next(csv.DictReader(io.StringIO(_admin(platform, "GET", f"{path}/codes.csv").text)))["code"]
    sku = _sku(platform, gateway, stock=20)
    card = platform.card()
    first = _shopper_with(platform, gateway, sku, code)
    second = _shopper_with(platform, gateway, sku, code)

    placed = _checkout(gateway, first, card)
    refused = _checkout(gateway, second, card)

    assert placed.status_code == 201 and placed.json()["promotions"][0]["code"] == code
    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-unavailable")
    cart = gateway.get("/api/v1/cart", headers=second).json()
    assert [(c["applied"], c["reason"]) for c in cart["codes"]] == [(False, "usage-exhausted")]
    used = {
        row["code"]: row["used"]
        for row in csv.DictReader(io.StringIO(_admin(platform, "GET", f"{path}/codes.csv").text))
    }
    assert used[code] == "1" and sorted(used.values()) == ["0", "0", "1"]
