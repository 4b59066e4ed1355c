"""Push end to end, on the real platform (`mercato up`): the devices API through the gateway, an order
checked out through the gateway pushed once to each device at the APNs and FCM stand-ins that `mercato
up` started (through the broker, the notifications service and the real clients), the GDPR export
listing devices and push history, and erasure taking the devices away."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.e2e.test_checkout import _checkout, _sku_with_stock

PASSWORD = "correct horse battery"
DEADLINE_SECONDS = 20.0


def _eventually(probe, done, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        result = probe()
        if done(result):
            return result
        assert time.monotonic() < deadline, f"{what} not reached; last seen: {result!r}"
        time.sleep(0.1)


def _shopper(gateway) -> tuple[str, dict[str, str]]:
    email = f"pushed-{uuid.uuid4().hex[:10]}@example.com"
    created = gateway.post("/api/v1/customers", json={"email": email, "password": PASSWORD, "name": "Ada"})
    assert created.status_code == 201, created.text
    tokens = gateway.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json()
    return created.json()["id"], {"Authorization": f"Bearer {tokens['access_token']}"}


def _communications(platform, customer_id: str) -> dict:
    url = f"{platform.service_url('notifications')}/internal/customers/{customer_id}/communications"
    return httpx.get(url).json()


def _pushes(platform, token: str) -> list[dict]:
    return httpx.get(f"{platform.topology.push_sandbox_url}/_sandbox/pushes", params={"token": token}).json()[
        "data"
    ]


def test_the_devices_api_is_for_signed_in_shoppers_only(platform, gateway):
    device = {"platform": "ios", "token": uuid.uuid4().hex * 2}
    refused = gateway.post("/mobile/v1/devices", json=device)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert gateway.delete(f"/mobile/v1/devices/{device['token']}").status_code == 401
    forged = {"x-mercato-customer-id": "cus_00000000000000000000000000"}  # the gateway strips it
    assert gateway.post("/mobile/v1/devices", json=device, headers=forged).status_code == 401

    _, auth = _shopper(gateway)
    bad = gateway.post(
        "/mobile/v1/devices", json={"platform": "windows", "token": device["token"]}, headers=auth
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert gateway.post("/mobile/v1/devices", json=device, headers=auth).status_code == 201
    assert gateway.post("/mobile/v1/devices", json=device, headers=auth).status_code == 200
    assert gateway.delete(f"/mobile/v1/devices/{device['token']}", headers=auth).status_code == 204


def test_an_order_is_pushed_once_to_each_device_exported_and_erased_with_the_customer(platform, gateway):
    customer_id, auth = _shopper(gateway)
    opted = gateway.patch("/api/v1/me", json={"communication": {"push": True}}, headers=auth)
    assert opted.status_code == 200, opted.text
    iphone, android = uuid.uuid4().hex * 2, f"{uuid.uuid4().hex[:22]}:APA91b{uuid.uuid4().hex * 3}"
    for device in ({"platform": "ios", "token": iphone}, {"platform": "android", "token": android}):
        assert gateway.post("/mobile/v1/devices", json=device, headers=auth).status_code == 201
    _eventually(  # the opt-in has reached notifications (CustomerUpdated, through the broker)
        lambda: _communications(platform, customer_id)["opt_ins"],
        lambda opt_ins: opt_ins is not None and opt_ins["push"],
        "the push opt-in at notifications",
    )

    sku = _sku_with_stock(platform, gateway, stock=5)
    assert (
        gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=auth).status_code == 200
    )
    placed = _checkout(gateway, auth, platform.card())
    assert placed.status_code == 201, placed.text
    order = placed.json()

    [apns] = _eventually(lambda: _pushes(platform, iphone), bool, "a push at the APNs stand-in")
    assert (apns["status"], apns["http_version"]) == (200, "2")
    assert apns["provider_token"] == {"alg": "ES256", "kid": "MERCATO0KY", "iss": "MERCATO0TM"}
    assert (
        apns["headers"]["apns-topic"] == "org.mercato.shop" and apns["headers"]["apns-push-type"] == "alert"
    )
    assert apns["title"] == f"Order {order['number']} is confirmed"
    assert apns["data"] == {"order_id": order["id"], "type": "order_confirmation"}
    [fcm] = _eventually(lambda: _pushes(platform, android), bool, "a push at the FCM stand-in")
    assert fcm["status"] == 200 and fcm["data"] == apns["data"] and fcm["bearer"] == "issued by /token"

    export = gateway.get("/api/v1/me/export", headers=auth)
    assert export.status_code == 200, export.text
    communications = export.json()["communications"]
    assert sorted((d["platform"], d["token"]) for d in communications["devices"]) == sorted(
        [("ios", iphone), ("android", android)]
    )
    pushed = [m for m in communications["messages"] if m["channel"] == "push"]
    assert sorted((m["platform"], m["kind"], m["order_id"]) for m in pushed) == sorted(
        [("ios", "order_confirmation", order["id"]), ("android", "order_confirmation", order["id"])]
    )

    assert gateway.delete("/api/v1/me", headers=auth).status_code == 204
    held = _eventually(
        lambda: _communications(platform, customer_id), lambda held: held["devices"] == [], "devices erased"
    )
    assert {m["to_address"] for m in held["messages"]} == {"(erased)"}
    assert len(_pushes(platform, iphone)) == 1  # exactly one, whatever was redelivered meanwhile
