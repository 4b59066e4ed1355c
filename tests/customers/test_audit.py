"""The audit log: every StaffActionRecorded, from any service, consumed through the real consumer
kernel (with its inbox) into customers' audit table, and read by admins newest first with filters."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, select

from mercato.contracts.events import StaffActionRecorded
from mercato.platform.broker import EventPublisher
from mercato.platform.ids import new_id
from mercato.platform.messaging import OutboundEvent
from mercato.platform.tables import dead_letters
from mercato.services.customers.models import AuditEntry
from tests.customers.factories import (
    ADMIN,
    audit,
    challenge,
    create_staff,
    deliver,
    deliver_staff_actions,
    enrolled_staff,
    login,
    staff_headers,
    verify,
)
from tests.platform.brokers import NatsServer, settings_for


def _catalog_action(*, staff_id: str, action: str, target_id: str, occurred_at: datetime) -> dict:
    """What catalog's outbox holds after a merchandiser changed a product."""
    return StaffActionRecorded(
        staff_id=staff_id,
        action=action,
        target_type="product",
        target_id=target_id,
        source_ip="198.51.100.4",
        service="catalog",
        details={"field": "price", "from": 1999, "to": 2499},
        occurred_at=occurred_at,
    ).envelope()


async def _rows(client) -> int:
    async with client.app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry))


async def test_sign_in_and_staff_changes_reach_the_audit_log_once(customers):
    member = await enrolled_staff(customers)
    phone = member["phone"]
    await login(customers, email=member["email"], password="not the password")
    await login(customers, email="nobody@example.com", password="whatever it is")
    started = await challenge(customers, email=member["email"])
    await verify(customers, challenge_token=started["challenge"], code=phone.wrong_code())
    await verify(customers, challenge_token=started["challenge"], recovery_code=member["recovery_codes"][0])
    await customers.patch(f"/admin/v1/staff/{member['id']}", json={"name": "Renamed"}, headers=ADMIN)

    assert await audit(customers) == []  # nothing until the events are consumed
    await deliver_staff_actions(customers)
    entries = await audit(customers)

    mine = [
        (e["action"], e.get("details", {}).get("reason"))
        for e in reversed(entries)
        if e["staff_id"] == member["id"]
    ]
    assert mine == [
        ("auth.mfa_enrolled", None),
        ("auth.password_changed", None),
        ("auth.login_succeeded", None),
        ("auth.login_failed", "wrong_password"),
        ("auth.mfa_failed", "wrong_code"),
        ("auth.recovery_code_used", None),
        ("auth.login_succeeded", None),
    ]
    [unknown] = [e for e in entries if e["staff_id"] == "unknown"]
    assert unknown["action"] == "auth.login_failed"
    assert unknown["details"] == {"reason": "unknown_email", "email": "nobody@example.com"}
    assert "whatever it is" not in str(entries) and "not the password" not in str(entries)
    assert {e["action"] for e in entries} >= {"staff.create", "staff.update"}
    assert all(e["service"] == "customers" for e in entries)

    # Newest first, and delivering everything again (a redelivery) adds nothing.
    stamps = [(e["occurred_at"], e["id"]) for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    count = await _rows(customers)
    await deliver_staff_actions(customers)
    assert await _rows(customers) == count == len(entries)


async def test_a_lockout_is_on_the_audit_log(customers):
    member = await enrolled_staff(customers)
    for _ in range(5):
        await login(customers, email=member["email"], password="not the password")
    assert (await login(customers, email=member["email"])).status_code == 423
    await deliver_staff_actions(customers)

    actions = [e["action"] for e in await audit(customers, staff_id=member["id"], action="auth.*")]
    assert actions[:3] == ["auth.login_refused", "auth.locked", "auth.login_failed"]
    assert actions.count("auth.login_failed") == 5


async def test_other_services_staff_actions_are_kept_with_their_details(customers):
    merchandiser = new_id("stf")
    now = datetime.now(UTC)
    event = _catalog_action(
        staff_id=merchandiser, action="product.update", target_id="prod_1", occurred_at=now
    )
    await deliver(customers, event)
    await deliver(customers, event)  # redelivered by the broker: kept once

    [entry] = await audit(customers, staff_id=merchandiser)
    assert entry == {
        "id": event["event_id"],
        "occurred_at": entry["occurred_at"],
        "staff_id": merchandiser,
        "action": "product.update",
        "service": "catalog",
        "target_type": "product",
        "target_id": "prod_1",
        "source_ip": "198.51.100.4",
        "details": {"field": "price", "from": 1999, "to": 2499},
        "recorded_at": entry["recorded_at"],
    }
    assert datetime.fromisoformat(entry["occurred_at"]) == now


async def test_the_audit_log_filters_and_pages_newest_first(customers):
    alice, bob = new_id("stf"), new_id("stf")
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    events = [
        _catalog_action(
            staff_id=alice if i % 2 == 0 else bob,
            action="product.update" if i < 4 else "product.delete",
            target_id=f"prod_{i % 3}",
            occurred_at=start + timedelta(minutes=i),
        )
        for i in range(6)
    ]
    await deliver(customers, *events)
    ids = [e["event_id"] for e in events]

    assert [e["id"] for e in await audit(customers, service="catalog")] == ids[::-1]
    assert await audit(customers, service="payments") == []
    assert [e["id"] for e in await audit(customers, staff_id=alice)] == [ids[4], ids[2], ids[0]]
    assert [e["id"] for e in await audit(customers, action="product.delete")] == [ids[5], ids[4]]
    assert [e["id"] for e in await audit(customers, action="product.*")] == ids[::-1]
    assert [e["id"] for e in await audit(customers, target_type="product", target_id="prod_1")] == [
        ids[4],
        ids[1],
    ]
    window = {
        "from": (start + timedelta(minutes=1)).isoformat(),
        "to": (start + timedelta(minutes=3)).isoformat(),
    }
    assert [e["id"] for e in await audit(customers, **window)] == [ids[2], ids[1]]
    # An offset in the filter is honoured: 13:02+01:00 is 12:02 UTC.
    assert [e["id"] for e in await audit(customers, **{"from": "2026-03-01T13:04:00+01:00"})] == [
        ids[5],
        ids[4],
    ]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, "action": "product.*"} | ({"cursor": cursor} if cursor else {})
        page = (await customers.get("/admin/v1/audit", params=params, headers=ADMIN)).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        other = await customers.get(
            "/admin/v1/audit", params={"cursor": cursor, "staff_id": bob}, headers=ADMIN
        )
        assert other.status_code == 400  # a cursor belongs to its filters
    assert seen == ids[::-1]


async def test_only_admins_read_the_audit_log(customers):
    for headers, status in [
        (staff_headers(roles=("support", "operations", "merchandising")), 403),
        ({}, 401),
        (staff_headers(roles=("admin",), mfa=False), 401),
    ]:
        assert (await customers.get("/admin/v1/audit", headers=headers)).status_code == status
    assert (
        await customers.get("/admin/v1/audit", params={"from": "yesterday"}, headers=ADMIN)
    ).status_code == 422


async def test_an_unreadable_staff_action_is_dead_lettered_not_lost_silently(customers):
    event = _catalog_action(
        staff_id=new_id("stf"), action="product.update", target_id="prod_1", occurred_at=datetime.now(UTC)
    )
    del event["payload"]["service"]
    await deliver(customers, event)
    async with customers.app.state.db.read() as session:
        [dead] = (await session.execute(select(dead_letters))).mappings().all()
    assert dead["event_id"] == event["event_id"] and dead["handler"] == "keep_audit_trail"
    assert await _rows(customers) == 0


async def test_a_staff_member_created_by_an_admin_is_on_the_log_by_that_admin(customers):
    admin_id = new_id("stf")
    member = await create_staff(customers, headers=staff_headers(roles=("admin",), staff_id=admin_id))
    await deliver_staff_actions(customers)
    [entry] = await audit(customers, target_type="staff", target_id=member["id"])
    assert (entry["staff_id"], entry["action"]) == (admin_id, "staff.create")
    assert entry["details"] == {"email": member["email"], "roles": "support", "password": "generated"}


@pytest.fixture
async def nats_broker(tmp_path, monkeypatch):
    """A real NATS JetStream, and the environment that makes a service started now use it."""
    nats = NatsServer(tmp_path / "jetstream")
    nats.start()
    settings = settings_for("nats", nats)
    monkeypatch.setenv("MERCATO_BROKER_ENABLED", "true")
    monkeypatch.setenv("MERCATO_BROKER_URL", settings.url)
    monkeypatch.setenv("MERCATO_BROKER_NAMESPACE", settings.namespace)
    yield settings
    nats.stop()


async def test_through_a_real_broker_actions_of_every_service_reach_the_log(nats_broker, start_customers):
    # Catalog recorded a staff action before customers ever ran: the subscription starts from the start.
    merchandiser = new_id("stf")
    earlier = _catalog_action(
        staff_id=merchandiser, action="product.update", target_id="prod_1", occurred_at=datetime.now(UTC)
    )
    publisher = EventPublisher(nats_broker)
    try:
        await publisher.publish(
            [
                OutboundEvent(
                    event_id=earlier["event_id"],
                    event_type="StaffActionRecorded",
                    aggregate_type="staff",
                    aggregate_id=merchandiser,
                    body=orjson.dumps(earlier),
                    headers={},
                )
            ]
        )
    finally:
        await publisher.close()

    customers = await start_customers()  # relays its outbox and consumes, as in production
    member = await create_staff(customers)  # customers' own staff action takes the same way

    deadline = time.monotonic() + 20
    while True:
        entries = await audit(customers)
        found = {(e["service"], e["action"], e["target_id"]) for e in entries}
        if {("catalog", "product.update", "prod_1"), ("customers", "staff.create", member["id"])} <= found:
            break
        assert time.monotonic() < deadline, f"not in the audit log within 20 s: {entries}"
        await asyncio.sleep(0.1)
