"""Profile, preferences, opt-ins, address book, export and erasure — each only for its owner."""

from __future__ import annotations

import uuid

import httpx

from tests.customers.factories import ADDRESS, PASSWORD, as_customer, register


async def test_me_needs_the_identity_the_gateway_verified(customers):
    assert (await customers.get("/api/v1/me")).status_code == 401
    assert (await customers.get("/api/v1/me", headers={"x-mercato-customer-id": "admin"})).status_code == 401


async def test_profile_preferences_and_opt_ins_can_be_changed(customers):
    customer = await register(customers)
    response = await customers.patch(
        "/api/v1/me",
        headers=as_customer(customer["id"]),
        json={
            "phone": "+442071234567",
            "preferences": {"language": "de", "newsletter": True},
            "communication": {"sms": True, "email": False},
        },
    )
    assert response.status_code == 200
    me = (await customers.get("/api/v1/me", headers=as_customer(customer["id"]))).json()
    assert me["phone"] == "+442071234567"
    assert me["preferences"] == {"language": "de", "currency": "EUR", "newsletter": True}
    assert me["communication"] == {"email": False, "sms": True, "push": False}
    assert me["name"] == customer["name"]  # untouched


async def test_invalid_profile_changes_are_422(customers):
    customer = await register(customers)
    for patch in [
        {"phone": "12345"},
        {"preferences": {"language": "english"}},
        {"communication": {"fax": True}},
        {"email": "new@example.com"},
    ]:
        response = await customers.patch("/api/v1/me", headers=as_customer(customer["id"]), json=patch)
        assert response.status_code == 422, patch


async def test_null_for_a_field_that_cannot_be_empty_is_a_422_and_changes_nothing(customers):
    customer = await register(customers)
    me = as_customer(customer["id"])
    await customers.patch("/api/v1/me", headers=me, json={"phone": "+442071234567"})
    for patch, field in [
        ({"name": None}, "name"),
        ({"preferences": None}, "preferences"),
        ({"preferences": {"language": None}}, "preferences.language"),
        ({"preferences": {"newsletter": None}}, "preferences.newsletter"),
        ({"communication": None}, "communication"),
        ({"communication": {"email": None}}, "communication.email"),
        ({"name": "Renamed", "communication": {"sms": None}}, "communication.sms"),
    ]:
        response = await customers.patch("/api/v1/me", headers=me, json=patch)
        assert response.status_code == 422, (patch, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "may not be null" in response.json()["errors"][field], response.text
    unchanged = (await customers.get("/api/v1/me", headers=me)).json()
    assert unchanged["name"] == customer["name"]
    assert unchanged["preferences"] == customer["preferences"]

    # The one field where null means something: no phone number.
    cleared = await customers.patch("/api/v1/me", headers=me, json={"phone": None})
    assert cleared.status_code == 200 and cleared.json()["phone"] is None


async def test_address_book_pages_and_only_the_owner_can_delete(customers):
    alice, bob = await register(customers), await register(customers)
    created = []
    for i in range(3):
        response = await customers.post(
            "/api/v1/me/addresses",
            headers=as_customer(alice["id"]),
            json=ADDRESS | {"line1": f"{i} Main St", "is_default": i == 2},
        )
        assert response.status_code == 201
        created.append(response.json())
    assert created[0]["country"] == "GB"

    first = (
        await customers.get("/api/v1/me/addresses", params={"limit": 2}, headers=as_customer(alice["id"]))
    ).json()
    rest = (
        await customers.get(
            "/api/v1/me/addresses", params={"cursor": first["next_cursor"]}, headers=as_customer(alice["id"])
        )
    ).json()
    assert [a["id"] for a in first["data"] + rest["data"]] == [a["id"] for a in created]
    assert rest["next_cursor"] is None

    assert (await customers.get("/api/v1/me/addresses", headers=as_customer(bob["id"]))).json()["data"] == []
    stolen = await customers.delete(
        f"/api/v1/me/addresses/{created[0]['id']}", headers=as_customer(bob["id"])
    )
    assert stolen.status_code == 404
    mine = await customers.delete(
        f"/api/v1/me/addresses/{created[0]['id']}", headers=as_customer(alice["id"])
    )
    assert mine.status_code == 204


async def test_invalid_addresses_are_422_with_field_errors(customers):
    customer = await register(customers)
    response = await customers.post(
        "/api/v1/me/addresses",
        headers=as_customer(customer["id"]),
        json=ADDRESS | {"country": "Britain", "city": ""},
    )
    assert response.status_code == 422
    assert {"country", "city"} <= set(response.json()["errors"])


async def test_export_holds_everything_about_me(customers):
    customer = await register(customers)
    await customers.post("/api/v1/me/addresses", headers=as_customer(customer["id"]), json=ADDRESS)
    export = (await customers.get("/api/v1/me/export", headers=as_customer(customer["id"]))).json()
    assert export["customer"]["email"] == customer["email"]
    assert export["addresses"][0]["line1"] == ADDRESS["line1"]
    assert export["communications"] == {"devices": [], "messages": []}


async def test_export_lists_my_devices_as_notifications_holds_them(customers, notifications_url):
    customer = await register(customers)
    token = uuid.uuid4().hex * 2
    async with httpx.AsyncClient(base_url=notifications_url) as notifications:  # as the gateway forwards it
        registered = await notifications.post(
            "/mobile/v1/devices",
            json={"platform": "ios", "token": token},
            headers=as_customer(customer["id"]),
        )
        assert registered.status_code == 201, registered.text

    export = (await customers.get("/api/v1/me/export", headers=as_customer(customer["id"]))).json()

    [device] = export["communications"]["devices"]
    assert (device["platform"], device["token"]) == ("ios", token)


async def test_no_export_without_what_notifications_holds_but_a_503_to_retry(start_customers):
    customers = await start_customers(notifications_url="http://127.0.0.1:9")  # nothing listens there
    customer = await register(customers)

    response = await customers.get("/api/v1/me/export", headers=as_customer(customer["id"]))

    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_erasure_closes_the_account_and_frees_the_email(customers):
    customer = await register(customers, email="leaving@example.com")
    await customers.post("/api/v1/me/addresses", headers=as_customer(customer["id"]), json=ADDRESS)
    tokens = (
        await customers.post(
            "/api/v1/auth/token", json={"email": "leaving@example.com", "password": PASSWORD}
        )
    ).json()

    assert (await customers.delete("/api/v1/me", headers=as_customer(customer["id"]))).status_code == 204

    assert (await customers.get("/api/v1/me", headers=as_customer(customer["id"]))).status_code == 401
    assert (
        await customers.post(
            "/api/v1/auth/token", json={"email": "leaving@example.com", "password": PASSWORD}
        )
    ).status_code == 401
    assert (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    await register(customers, email="leaving@example.com")  # the address is no longer held
