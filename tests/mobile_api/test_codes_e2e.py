"""Promotion codes on the mobile API end to end, as the app uses them: through the real gateway (Envoy) to
the mobile API and on to the real orders service. A code applied shows in `codes`, `discounts` and the
totals exactly as orders' own cart answers them; a rejected code keeps orders' reason and sentence; an
unknown code is orders' 422 `unknown-code`, unchanged; a code comes off again; the order placed with a
code shows its promotion and how it was paid."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.test_mobile_api import ADDRESS, shopper  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def create_promotion(platform, *, code: str, action: dict, conditions: dict | None = None) -> dict:
    """A code promotion, made as merchandising makes one (orders' admin API)."""
    body = {
        "name": f"Mobile {code}",
        "trigger": "code",
        "active": True,
        "priority": 0,
        "combines": True,
        "conditions": conditions or {},
        "action": action,
        "codes": [code],
    }
    created = httpx.post(
        f"{platform.service_url('orders')}/admin/v1/promotions",
        json=body,
        headers=platform.staff_headers("merchandising"),
    )
    assert created.status_code == 201, created.text
    return created.json()


def _code() -> str:
    return f"M{uuid.uuid4().hex[:8].upper()}"


def test_codes_applied_rejected_and_removed_as_orders_answers_them(platform, gateway, shopper):  # noqa: F811
    ten, big = _code(), _code()
    create_promotion(platform, code=ten, action={"type": "percentage", "target": "lines", "percent": "10"})
    create_promotion(
        platform,
        code=big,
        action={"type": "fixed", "target": "order", "amounts": {"EUR": 500}},
        conditions={"min_subtotal": {"EUR": 10_000_000}},
    )
    sku = gateway.get("/mobile/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    platform.set_stock(sku, 5)
    gateway.post("/mobile/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper)

    applied = gateway.post("/mobile/v1/cart/codes", json={"code": ten.lower()}, headers=shopper)
    assert applied.status_code == 200, applied.text
    cart = applied.json()
    web = gateway.get("/api/v1/cart", headers=shopper).json()
    [entry] = cart["codes"]
    assert entry["code"] == ten and entry["applied"] is True and entry["discount"]["amount"] > 0
    assert cart["totals"] == web["totals"] and cart["totals"]["discount"] == entry["discount"]
    assert [(d["name"], d["code"], d["amount"]) for d in cart["discounts"]] == [
        (f"Mobile {ten}", ten, entry["discount"])
    ]
    assert cart["lines"][0]["discount"] == web["lines"][0]["discount"] == entry["discount"]

    rejected = gateway.post("/mobile/v1/cart/codes", json={"code": big}, headers=shopper).json()
    outcome = next(c for c in rejected["codes"] if c["code"] == big)
    web_outcome = next(
        c for c in gateway.get("/api/v1/cart", headers=shopper).json()["codes"] if c["code"] == big
    )
    assert (outcome["applied"], outcome["reason"]) == (False, "minimum-not-met")
    assert outcome["message"] == web_outcome["message"] and "100,000.00" in outcome["message"]
    assert rejected["totals"] == cart["totals"]  # the rejected code takes nothing off

    unknown = gateway.post("/mobile/v1/cart/codes", json={"code": "NOSUCHCODE1"}, headers=shopper)
    web_unknown = gateway.post("/api/v1/cart/codes", json={"code": "NOSUCHCODE1"}, headers=shopper)
    assert unknown.status_code == web_unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json() == web_unknown.json() and unknown.json()["type"].endswith("unknown-code")

    removed = gateway.delete(f"/mobile/v1/cart/codes/{big}", headers=shopper)
    assert removed.status_code == 200 and [c["code"] for c in removed.json()["codes"]] == [ten]
    assert gateway.delete(f"/mobile/v1/cart/codes/{big}", headers=shopper).status_code == 404

    placed = gateway.post(
        "/mobile/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card("4242424242424242")},
        headers=shopper | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = gateway.get(f"/mobile/v1/orders/{placed.json()['id']}", headers=shopper).json()
    assert [(p["name"], p["code"], p["amount"]) for p in order["promotions"]] == [
        (f"Mobile {ten}", ten, entry["discount"])
    ]
    assert order["totals"]["discount"] == entry["discount"]
    web_order = gateway.get(f"/api/v1/orders/{order['id']}", headers=shopper).json()
    tenders = [{k: t.get(k) for k in ("kind", "last4", "amount")} for t in web_order.get("tenders") or []]
    assert order["tenders"] == tenders  # how it was paid, as orders says (the card's part, here all)
