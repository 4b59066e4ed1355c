"""The back office's door, through the real gateway of a running platform: staff tokens with a second
factor only, from allowlisted addresses only, each role to its own work, lockout after wrong codes,
and every staff action on the audit log with who, what, when and from where."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from mercato.platform.ids import new_id
from tests.e2e.staff import PASSWORD, create_staff, enrol, forged_staff_token, signed_in_staff

pytestmark = pytest.mark.e2e


def test_admin_routes_take_only_staff_tokens_with_a_second_factor_from_allowlisted_addresses(
    platform, gateway
):
    member, staff = signed_in_staff(platform, gateway, "operations")
    assert gateway.get("/admin/v1/orders", headers=staff).status_code == 200

    assert gateway.get("/admin/v1/orders").status_code == 401
    shopper = platform.token_for(new_id("cus"))
    assert gateway.get("/admin/v1/orders", headers=shopper).status_code == 401
    no_mfa = forged_staff_token(platform, staff_id=member.id, roles=["operations"], mfa=False)
    refused = gateway.get("/admin/v1/orders", headers=no_mfa)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    # 127.0.0.2 is this machine too, but not on the default allowlist (127.0.0.1 and ::1 only).
    stranger = httpx.Client(
        base_url=platform.gateway, transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10
    )
    with stranger:
        for headers in (staff, staff | {"x-forwarded-for": "127.0.0.1"}):
            assert stranger.get("/admin/v1/orders", headers=headers).status_code == 403
        login = stranger.post("/admin/v1/auth/login", json={"email": member.email, "password": PASSWORD})
        assert login.status_code == 403
        assert stranger.get("/api/v1/products").status_code == 200  # the shop itself is open to all


def test_each_role_does_its_own_work_only(platform, gateway):
    _, support = signed_in_staff(platform, gateway, "support")
    _, merchandising = signed_in_staff(platform, gateway, "merchandising")
    product = gateway.get("/admin/v1/products", params={"q": "classic-cotton-t-shirt"}, headers=merchandising)
    assert product.status_code == 200, product.text
    product_id = product.json()["data"][0]["id"]

    edit = gateway.patch(
        f"/admin/v1/products/{product_id}", json={"name": "Hijacked"}, headers=support | {"If-Match": "*"}
    )
    assert edit.status_code == 403
    order_id = new_id("ord")
    refund = gateway.post(
        f"/admin/v1/orders/{order_id}/refunds",
        json={"reason": "goodwill"},
        headers=merchandising | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refund.status_code == 403
    assert gateway.get("/admin/v1/staff", headers=support).status_code == 403
    assert gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["name"] != "Hijacked"


def test_five_wrong_codes_lock_the_account_even_against_the_right_code(platform, gateway):
    member = create_staff(platform, roles=("support",))
    enrol(gateway, member)
    for attempt in range(5):
        step = gateway.post("/admin/v1/auth/login", json={"email": member.email, "password": PASSWORD})
        assert step.status_code == 200, (attempt, step.text)
        wrong = gateway.post(
            "/admin/v1/auth/verify", json={"challenge": step.json()["challenge"], "code": "000000"}
        )
        assert wrong.status_code in (401, 423), wrong.text
    step = gateway.post("/admin/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert step.status_code == 423, step.text
    assert "retry-after" in step.headers
    assert step.json()["status"] == 423


def test_staff_actions_are_on_the_audit_log_with_who_what_and_from_where(platform, gateway):
    member, merchandising = signed_in_staff(platform, gateway, "merchandising")
    _, admin = signed_in_staff(platform, gateway, "admin")
    sku = gateway.get("/api/v1/products/striped-breton-tee").json()["variants"][0]["sku"]
    adjusted = gateway.post(
        f"/admin/v1/inventory/{sku}/adjustments",
        json={"delta": 3, "reason": "received"},
        headers=merchandising | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert adjusted.status_code in (200, 201), adjusted.text

    deadline = time.monotonic() + 15  # the audit log is fed by events, asynchronously
    while True:
        entries = gateway.get("/admin/v1/audit", params={"staff_id": member.id}, headers=admin).json()["data"]
        mine = [e for e in entries if e["service"] == "catalog" and e["target_id"] == sku]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine, entries
    assert mine[0]["source_ip"] and mine[0]["occurred_at"]
    assert any(e["action"] == "auth.login_succeeded" for e in entries)
