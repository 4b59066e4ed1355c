"""Customer support: support staff (and admins) look customers up, see their profile, hand them their
GDPR export and erase them on request — the same export and erasure customers get themselves, and
every access on the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from mercato.platform.ids import new_id
from mercato.platform.tables import outbox
from tests.customers.factories import (
    ADDRESS,
    PASSWORD,
    as_customer,
    audit,
    deliver_staff_actions,
    register,
    staff_headers,
)

SUPPORT = staff_headers(roles=("support",))


async def _events(client, event_type: str) -> list[dict]:
    async with client.app.state.db.read() as session:
        rows = (
            await session.execute(
                select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.position)
            )
        ).scalars()
        return [envelope["payload"] for envelope in rows]


async def test_only_support_and_admins_reach_customers(customers):
    customer = await register(customers)
    for path in (
        "/admin/v1/customers",
        f"/admin/v1/customers/{customer['id']}",
        f"/admin/v1/customers/{customer['id']}/export",
    ):
        for headers, status in [
            (staff_headers(roles=("merchandising", "operations")), 403),
            ({}, 401),
            (staff_headers(roles=("support",), mfa=False), 401),
            (as_customer(customer["id"]), 401),  # a shopper is not staff
            (SUPPORT, 200),
            (staff_headers(roles=("admin",)), 200),
        ]:
            assert (await customers.get(path, headers=headers)).status_code == status, (path, headers)
    erasure = await customers.post(
        f"/admin/v1/customers/{customer['id']}/erasure",
        json={"reason": "ticket 1"},
        headers=staff_headers(roles=("operations",)),
    )
    assert erasure.status_code == 403


async def test_support_finds_customers_by_email_name_or_id(customers):
    ada = await register(customers, email="ada.lovelace@example.com", name="Ada Lovelace")
    grace = await register(customers, email="grace@navy.example.com", name="Grace Hopper")
    charles = await register(customers, email="charles@example.com", name="Charles Babbage")

    async def find(q: str | None = None, **params) -> list[str]:
        response = await customers.get(
            "/admin/v1/customers", params={"q": q, **params} if q else params, headers=SUPPORT
        )
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    # E-mail and name are stored encrypted: found through their blind indexes, exactly (case and
    # spacing aside), never by a part of them.
    assert await find(" Ada.Lovelace@EXAMPLE.com") == [ada["id"]]
    assert await find("grace  HOPPER") == [grace["id"]]
    assert await find(charles["id"]) == [charles["id"]]
    assert await find("navy.example") == []
    assert await find("hopper") == []
    assert await find("%") == []
    assert await find() == [charles["id"], grace["id"], ada["id"]]  # newest first
    assert await find("nobody") == []

    first = (await customers.get("/admin/v1/customers", params={"limit": 2}, headers=SUPPORT)).json()
    rest = (
        await customers.get(
            "/admin/v1/customers", params={"limit": 2, "cursor": first["next_cursor"]}, headers=SUPPORT
        )
    ).json()
    assert [c["id"] for c in first["data"] + rest["data"]] == [charles["id"], grace["id"], ada["id"]]
    assert first["data"][0] == {
        "id": charles["id"],
        "email": "charles@example.com",
        "name": "Charles Babbage",
        "status": "active",
        "created_at": first["data"][0]["created_at"],
    }
    other = await customers.get(
        "/admin/v1/customers", params={"q": "ada", "cursor": first["next_cursor"]}, headers=SUPPORT
    )
    assert other.status_code == 400


async def test_a_page_of_orders_looks_its_customers_up_in_one_call(customers):
    ada = await register(customers, email="ada.lovelace@example.com", name="Ada Lovelace")
    grace = await register(customers, email="grace@navy.example.com", name="Grace Hopper")
    ids = [grace["id"], ada["id"], new_id("cus"), ada["id"]]  # an unknown id and a repeat

    for roles in (("operations",), ("support",), ("admin",)):
        found = await customers.get(
            "/admin/v1/customers/lookup", params=[("id", i) for i in ids], headers=staff_headers(roles=roles)
        )
        assert found.status_code == 200, (roles, found.text)
        assert {c["id"]: (c["name"], c["email"], c["status"]) for c in found.json()["data"]} == {
            ada["id"]: ("Ada Lovelace", "ada.lovelace@example.com", "active"),
            grace["id"]: ("Grace Hopper", "grace@navy.example.com", "active"),
        }
    merchandising = staff_headers(roles=("merchandising",))
    refused = await customers.get(
        "/admin/v1/customers/lookup", params={"id": ada["id"]}, headers=merchandising
    )
    assert refused.status_code == 403
    for params in ([], [("id", "ada@example.com")], [("id", new_id("cus"))] * 101):
        bad = await customers.get("/admin/v1/customers/lookup", params=params, headers=SUPPORT)
        assert bad.status_code == 422, (params[:1], bad.text)
        assert bad.headers["content-type"] == "application/problem+json"


async def test_support_finds_an_address_however_its_accents_are_encoded(customers):
    rene = await register(customers, email="ren\u00e9@example.com", name="Ren\u00e9 Char")
    for q in ("RENE\u0301@example.com", "rene\u0301@example.com", "ren\u00e9@EXAMPLE.com"):
        response = await customers.get("/admin/v1/customers", params={"q": q}, headers=SUPPORT)
        assert [c["id"] for c in response.json()["data"]] == [rene["id"]], q


async def test_support_sees_the_profile_opt_ins_and_addresses(customers):
    customer = await register(customers, name="Ada Lovelace")
    me = as_customer(customer["id"])
    await customers.patch(
        "/api/v1/me", headers=me, json={"communication": {"sms": True}, "phone": "+442071234567"}
    )
    await customers.post("/api/v1/me/addresses", headers=me, json=ADDRESS)

    response = await customers.get(f"/admin/v1/customers/{customer['id']}", headers=SUPPORT)
    assert response.status_code == 200
    shown = response.json()
    assert shown["id"] == customer["id"] and shown["email"] == customer["email"]
    assert shown["phone"] == "+442071234567"
    assert shown["communication"] == {"email": True, "sms": True, "push": False}
    assert shown["status"] == "active" and shown["erased"] is False and shown["erased_at"] is None
    assert shown["created_at"] and [a["line1"] for a in shown["addresses"]] == [ADDRESS["line1"]]
    assert "password" not in str(shown).lower()

    for unknown in (new_id("cus"), "nope", new_id("stf")):
        assert (await customers.get(f"/admin/v1/customers/{unknown}", headers=SUPPORT)).status_code == 404


async def test_support_hands_out_the_same_export_the_customer_gets(customers):
    customer = await register(customers)
    me = as_customer(customer["id"])
    await customers.post("/api/v1/me/addresses", headers=me, json=ADDRESS)
    await customers.post("/api/v1/auth/token", json={"email": customer["email"], "password": PASSWORD})

    own = (await customers.get("/api/v1/me/export", headers=me)).json()
    for_support = await customers.get(f"/admin/v1/customers/{customer['id']}/export", headers=SUPPORT)
    assert for_support.status_code == 200
    assert for_support.json() | {"exported_at": None} == own | {"exported_at": None}
    assert len(own["sessions"]) == 1 and len(own["addresses"]) == 1


async def test_erasure_on_request_is_the_customers_own_erasure_and_may_be_asked_twice(customers):
    customer = await register(customers, name="Charles Babbage")
    me = as_customer(customer["id"])
    await customers.post("/api/v1/me/addresses", headers=me, json=ADDRESS)
    tokens = (
        await customers.post("/api/v1/auth/token", json={"email": customer["email"], "password": PASSWORD})
    ).json()

    url = f"/admin/v1/customers/{customer['id']}/erasure"
    assert (await customers.post(url, json={"reason": "  "}, headers=SUPPORT)).status_code == 422
    assert (await customers.post(url, json={}, headers=SUPPORT)).status_code == 422
    erased = await customers.post(url, json={"reason": "e-mail of 3 March, ticket 4711"}, headers=SUPPORT)
    assert erased.status_code == 200, erased.text
    assert erased.json() == {
        "customer_id": customer["id"],
        "status": "erased",
        "erased_at": erased.json()["erased_at"],
        "already_erased": False,
    }

    # What DELETE /me does: closed now, personal data gone, sessions revoked, CustomerErased for the rest.
    assert (await customers.get("/api/v1/me", headers=me)).status_code == 401
    assert (
        await customers.post("/api/v1/auth/token", json={"email": customer["email"], "password": PASSWORD})
    ).status_code == 401
    assert (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    [event] = await _events(customers, "CustomerErased")
    assert event["customer_id"] == customer["id"]
    shown = (await customers.get(f"/admin/v1/customers/{customer['id']}", headers=SUPPORT)).json()
    assert shown["erased"] is True and shown["status"] == "erased" and shown["erased_at"]
    assert shown["name"] == "" and shown["addresses"] == [] and "babbage" not in str(shown).lower()
    assert (
        await customers.get(f"/admin/v1/customers/{customer['id']}/export", headers=SUPPORT)
    ).status_code == 409

    again = await customers.post(url, json={"reason": "asked again"}, headers=SUPPORT)
    assert again.status_code == 200
    assert again.json() == erased.json() | {"already_erased": True}
    assert len(await _events(customers, "CustomerErased")) == 1
    unknown = await customers.post(
        f"/admin/v1/customers/{new_id('cus')}/erasure", json={"reason": "x"}, headers=SUPPORT
    )
    assert unknown.status_code == 404


async def test_every_support_access_is_on_the_audit_log(customers):
    agent = new_id("stf")
    headers = staff_headers(roles=("support",), staff_id=agent)
    customer = await register(customers)
    await customers.get("/admin/v1/customers", params={"q": "ada"}, headers=headers)
    await customers.get(f"/admin/v1/customers/{customer['id']}", headers=headers)
    await customers.get(f"/admin/v1/customers/{customer['id']}/export", headers=headers)
    await customers.post(
        f"/admin/v1/customers/{customer['id']}/erasure", json={"reason": "ticket 4711"}, headers=headers
    )
    await deliver_staff_actions(customers)

    entries = await audit(customers, staff_id=agent)
    assert [(e["action"], e["target_id"], e["details"]) for e in reversed(entries)] == [
        ("customer.search", None, {"q": "ada"}),
        ("customer.view", customer["id"], {}),
        ("customer.export", customer["id"], {}),
        ("customer.erase", customer["id"], {"reason": "ticket 4711", "already_erased": False}),
    ]
    assert {e["target_type"] for e in entries[:3]} == {"customer"}
