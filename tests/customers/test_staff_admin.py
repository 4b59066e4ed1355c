"""Staff management, for admins only: accounts with a one-time temporary password, roles, disabling,
unlocking, resetting a lost second factor or a forgotten password. Each change is on the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from mercato.platform.db import Database
from mercato.platform.ids import new_id
from mercato.platform.tables import outbox
from mercato.services.customers.staff.credentials import StaffRealm
from mercato.services.customers.staff.service import ensure_initial_admin
from tests.customers.factories import (
    ADMIN,
    STAFF_PASSWORD,
    challenge,
    create_staff,
    enrolled_staff,
    login,
    staff_headers,
    staff_sign_in,
)


async def _staff_actions(client) -> list[dict]:
    async with client.app.state.db.read() as session:
        rows = (
            await session.execute(
                select(outbox.c.aggregate_id, outbox.c.envelope)
                .where(outbox.c.event_type == "StaffActionRecorded")
                .order_by(outbox.c.position)
            )
        ).all()
    return [{"aggregate_id": aggregate_id, **envelope["payload"]} for aggregate_id, envelope in rows]


async def test_only_admins_manage_staff(customers):
    member = await create_staff(customers)
    paths = [
        ("GET", "/admin/v1/staff", None),
        ("POST", "/admin/v1/staff", {"email": "x@example.com", "name": "X", "roles": ["support"]}),
        ("GET", f"/admin/v1/staff/{member['id']}", None),
        ("PATCH", f"/admin/v1/staff/{member['id']}", {"name": "Y"}),
        ("POST", f"/admin/v1/staff/{member['id']}/unlock", None),
        ("POST", f"/admin/v1/staff/{member['id']}/reset-mfa", None),
        ("POST", f"/admin/v1/staff/{member['id']}/reset-password", None),
    ]
    for method, path, body in paths:
        for headers, status in [
            (staff_headers(roles=("support", "operations", "merchandising")), 403),
            ({}, 401),
            (staff_headers(roles=("admin",), mfa=False), 401),
            (staff_headers(roles=("admin",), mfa=None), 401),
            (staff_headers(roles=("admin",), staff_id="cus_01JD000000000000000000000"), 401),
        ]:
            response = await customers.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (method, path, headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    assert (await customers.get(f"/admin/v1/staff/{member['id']}", headers=ADMIN)).json()["name"] == member[
        "name"
    ]


async def test_creating_staff_shows_a_generated_temporary_password_once(customers):
    body = {"email": "Ada@Example.com", "name": "Ada Lovelace", "roles": ["support", "admin"]}
    headers = ADMIN | {"Idempotency-Key": "create-ada"}
    created = await customers.post("/admin/v1/staff", json=body, headers=headers)
    assert created.status_code == 201, created.text
    member = created.json()
    assert member["email"] == "ada@example.com" and member["roles"] == ["support", "admin"]
    assert member["password_change_required"] is True and member["mfa_enrolled"] is False
    assert len(member["temporary_password"]) >= 20

    # A retry with the same key is the same account, but the password is not kept to be shown again.
    replay = await customers.post("/admin/v1/staff", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() | {"temporary_password": "?"} == member | {"temporary_password": "?"}
    assert replay.json()["temporary_password"] is None
    # Another request for the same person is a conflict.
    duplicate = await customers.post("/admin/v1/staff", json=body, headers=ADMIN)
    assert duplicate.status_code == 409

    started = await challenge(customers, email="ada@example.com", password=member["temporary_password"])
    assert started["status"] == "enrolment_required" and started["password_change_required"] is True


async def test_an_admin_may_set_the_first_password_if_it_meets_the_rules(customers):
    weak = await customers.post(
        "/admin/v1/staff",
        json={"email": "bob@example.com", "name": "Bob", "roles": ["support"], "password": "short"},
        headers=ADMIN,
    )
    assert weak.status_code == 422 and "password" in weak.json()["errors"]
    member = await create_staff(customers, email="bob@example.com", password="a chosen first password")
    assert member["temporary_password"] is None
    started = await challenge(customers, email="bob@example.com", password="a chosen first password")
    assert started["password_change_required"] is True  # still someone else's: replaced at first sign-in


async def test_invalid_staff_are_422(customers):
    for body in [
        {"email": "x@example.com", "name": "X", "roles": []},
        {"email": "x@example.com", "name": "X", "roles": ["owner"]},
        {"email": "not-an-email", "name": "X", "roles": ["support"]},
        {"email": "x@example.com", "name": "", "roles": ["support"]},
        {"email": "x@example.com", "name": "X", "roles": ["support"], "is_admin": True},
    ]:
        response = await customers.post("/admin/v1/staff", json=body, headers=ADMIN)
        assert response.status_code == 422, body


async def test_null_in_a_staff_change_is_a_422(customers):
    member = await create_staff(customers)
    for patch in ({"name": None}, {"roles": None}, {"active": None}):
        response = await customers.patch(f"/admin/v1/staff/{member['id']}", json=patch, headers=ADMIN)
        assert response.status_code == 422, (patch, response.text)
        assert "may not be null" in response.json()["errors"][next(iter(patch))]


async def test_staff_are_listed_in_pages_and_unknown_ids_are_404(customers):
    created = [await create_staff(customers) for _ in range(3)]
    first = (await customers.get("/admin/v1/staff", params={"limit": 2}, headers=ADMIN)).json()
    rest = (
        await customers.get(
            "/admin/v1/staff", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN
        )
    ).json()
    assert [m["id"] for m in first["data"] + rest["data"]] == [m["id"] for m in created]
    assert rest["next_cursor"] is None
    assert all("temporary_password" not in m and "password_hash" not in m for m in first["data"])
    for unknown in ("stf_01JD000000000000000000000Z", "nope"):
        assert (await customers.get(f"/admin/v1/staff/{unknown}", headers=ADMIN)).status_code == 404
        response = await customers.post(f"/admin/v1/staff/{unknown}/unlock", headers=ADMIN)
        assert response.status_code == 404


async def test_an_admin_cannot_demote_or_disable_themselves_but_another_admin_can(customers):
    admin = await create_staff(customers, roles=("admin",))
    me = staff_headers(roles=("admin",), staff_id=admin["id"])
    for patch in ({"roles": ["support"]}, {"active": False}):
        refused = await customers.patch(f"/admin/v1/staff/{admin['id']}", json=patch, headers=me)
        assert refused.status_code == 409, patch
    kept = (await customers.get(f"/admin/v1/staff/{admin['id']}", headers=ADMIN)).json()
    assert kept["roles"] == ["admin"] and kept["active"] is True
    # Renaming oneself, or keeping admin while adding roles, is fine.
    renamed = await customers.patch(
        f"/admin/v1/staff/{admin['id']}", json={"name": "Root", "roles": ["support", "admin"]}, headers=me
    )
    assert renamed.status_code == 200 and renamed.json()["roles"] == ["support", "admin"]

    demoted = await customers.patch(
        f"/admin/v1/staff/{admin['id']}", json={"roles": ["support"]}, headers=ADMIN
    )
    assert demoted.status_code == 200 and demoted.json()["roles"] == ["support"]


async def test_disabling_a_staff_member_ends_their_sessions(customers):
    member = await enrolled_staff(customers)
    disabled = await customers.patch(f"/admin/v1/staff/{member['id']}", json={"active": False}, headers=ADMIN)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    refresh = await customers.post(
        "/admin/v1/auth/refresh", json={"refresh_token": member["tokens"]["refresh_token"]}
    )
    assert refresh.status_code == 401

    await customers.patch(f"/admin/v1/staff/{member['id']}", json={"active": True}, headers=ADMIN)
    await staff_sign_in(customers, member)


async def test_resetting_the_second_factor_forces_a_new_enrolment(customers):
    member = await enrolled_staff(customers)
    reset = await customers.post(f"/admin/v1/staff/{member['id']}/reset-mfa", headers=ADMIN)
    assert reset.status_code == 200
    assert reset.json()["mfa_enrolled"] is False and reset.json()["recovery_codes_remaining"] == 0

    # The old sessions, codes and recovery codes are all gone; the next sign-in enrols anew.
    assert (
        await customers.post(
            "/admin/v1/auth/refresh", json={"refresh_token": member["tokens"]["refresh_token"]}
        )
    ).status_code == 401
    started = await challenge(customers, email=member["email"])
    assert started["status"] == "enrolment_required"
    refused = await customers.post(
        "/admin/v1/auth/verify",
        json={"challenge": started["challenge"], "recovery_code": member["recovery_codes"][0]},
    )
    assert refused.status_code == 409  # this sign-in is an enrolment now


async def test_resetting_a_password_issues_a_temporary_one(customers):
    member = await enrolled_staff(customers)
    reset = await customers.post(f"/admin/v1/staff/{member['id']}/reset-password", headers=ADMIN)
    assert reset.status_code == 200
    temporary = reset.json()["temporary_password"]

    assert (await login(customers, email=member["email"], password=STAFF_PASSWORD)).status_code == 401
    started = await challenge(customers, email=member["email"], password=temporary)
    assert started == started | {"status": "mfa_required", "password_change_required": True}
    without = await customers.post(
        "/admin/v1/auth/verify", json={"challenge": started["challenge"], "code": member["phone"].next_code()}
    )
    assert without.status_code == 422
    changed = await customers.post(
        "/admin/v1/auth/verify",
        json={
            "challenge": started["challenge"],
            "code": member["phone"].last_code,
            "new_password": "my very own new password",
        },
    )
    assert changed.status_code == 200, changed.text
    assert (
        await login(customers, email=member["email"], password="my very own new password")
    ).status_code == 200


async def test_every_staff_change_is_recorded_as_a_staff_action_by_whoever_made_it(customers):
    admin_id = new_id("stf")
    admin = staff_headers(roles=("admin",), staff_id=admin_id) | {"x-forwarded-for": "203.0.113.7, 10.0.0.2"}
    member = await create_staff(customers, headers=admin)
    target = member["id"]
    await customers.patch(
        f"/admin/v1/staff/{target}", json={"roles": ["support", "operations"]}, headers=admin
    )
    await customers.patch(
        f"/admin/v1/staff/{target}", json={"name": member["name"]}, headers=admin
    )  # no change
    await customers.post(f"/admin/v1/staff/{target}/unlock", headers=admin)
    await customers.post(f"/admin/v1/staff/{target}/reset-mfa", headers=admin)
    await customers.post(f"/admin/v1/staff/{target}/reset-password", headers=admin)

    actions = await _staff_actions(customers)
    assert [(a["action"], a["staff_id"], a["target_id"]) for a in actions] == [
        ("staff.create", admin_id, target),
        ("staff.update", admin_id, target),
        ("staff.unlock", admin_id, target),
        ("staff.reset_mfa", admin_id, target),
        ("staff.reset_password", admin_id, target),
    ]
    assert {(a["service"], a["target_type"], a["source_ip"], a["aggregate_id"]) for a in actions} == {
        ("customers", "staff", "203.0.113.7, 10.0.0.2", admin_id)
    }
    assert actions[1]["details"] == {"roles": "operations,support", "previous_roles": "support"}
    assert member["temporary_password"] not in str(actions)


async def test_the_first_admin_is_created_once_for_development(customers):
    realm: StaffRealm = customers.app.state.staff_realm
    db: Database = customers.app.state.db
    async with db.unit_of_work() as session:
        created = await ensure_initial_admin(session, realm)
    assert created is not None
    email, password = created
    async with db.unit_of_work() as session:
        assert await ensure_initial_admin(session, realm) is None

    started = await challenge(customers, email=email, password=password)
    assert started["status"] == "enrolment_required" and started["password_change_required"] is True
    listed = (await customers.get("/admin/v1/staff", headers=ADMIN)).json()["data"]
    assert [(m["email"], m["roles"]) for m in listed] == [(email, ["admin"])]
