"""Customer events: staged in the outbox by the transaction that registers, changes or erases a customer."""

from __future__ import annotations

from sqlalchemy import select

from mercato.platform.tables import outbox
from tests.customers.factories import as_customer, register


async def _events(client, event_type: str | None = None) -> list[dict]:
    """Outbox rows in the order they were staged, as {type, aggregate_type, aggregate_id, payload}."""
    async with client.app.state.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [
        {
            "type": row["event_type"],
            "aggregate_type": row["aggregate_type"],
            "aggregate_id": row["aggregate_id"],
            "payload": row["envelope"]["payload"],
        }
        for row in rows
        if event_type is None or row["event_type"] == event_type
    ]


async def test_registering_publishes_the_contact_details_and_opt_ins(customers):
    customer = await register(customers, email="Grace.Hopper@Example.com", name="Grace Hopper")

    [event] = await _events(customers)
    assert (event["type"], event["aggregate_type"], event["aggregate_id"]) == (
        "CustomerRegistered",
        "customer",
        customer["id"],
    )
    assert event["payload"] | {"registered_at": None} == {
        "customer_id": customer["id"],
        "email": "grace.hopper@example.com",
        "name": "Grace Hopper",
        "phone": None,
        "language": "en",
        "opt_ins": {"email": True, "sms": False, "push": False},
        "registered_at": None,
    }
    assert "password" not in str(event["payload"])


async def test_a_refused_or_replayed_registration_publishes_nothing_more(customers):
    customer = await register(customers)
    duplicate = await customers.post(
        "/api/v1/customers",
        json={"email": customer["email"], "password": "another fine password", "name": "X"},
    )
    weak = await customers.post(
        "/api/v1/customers", json={"email": "weak@example.com", "password": "short", "name": "Weak"}
    )
    assert (duplicate.status_code, weak.status_code) == (409, 422)

    body = {"email": "once@example.com", "password": "correct horse battery staple", "name": "Once"}
    headers = {"Idempotency-Key": "register-once"}
    first = await customers.post("/api/v1/customers", json=body, headers=headers)
    again = await customers.post("/api/v1/customers", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"

    assert [e["aggregate_id"] for e in await _events(customers)] == [customer["id"], first.json()["id"]]


async def test_changing_contact_details_language_or_opt_ins_publishes_the_new_state(customers):
    customer = await register(customers)
    me = as_customer(customer["id"])

    response = await customers.patch(
        "/api/v1/me",
        headers=me,
        json={
            "name": "Ada King",
            "phone": "+442071234567",
            "preferences": {"language": "de"},
            "communication": {"sms": True, "email": False},
        },
    )
    assert response.status_code == 200
    [updated] = await _events(customers, "CustomerUpdated")
    assert updated["aggregate_id"] == customer["id"]
    assert updated["payload"] | {"updated_at": None} == {
        "customer_id": customer["id"],
        "email": customer["email"],
        "name": "Ada King",
        "phone": "+442071234567",
        "language": "de",
        "opt_ins": {"email": False, "sms": True, "push": False},
        "updated_at": None,
    }

    await customers.patch("/api/v1/me", headers=me, json={"communication": {"push": True}})
    assert (await _events(customers, "CustomerUpdated"))[-1]["payload"]["opt_ins"]["push"] is True


async def test_changes_no_consumer_holds_or_refused_changes_publish_nothing(customers):
    customer = await register(customers)
    me = as_customer(customer["id"])
    before = await _events(customers)

    unchanged = await customers.patch("/api/v1/me", headers=me, json={"name": customer["name"]})
    private = await customers.patch(
        "/api/v1/me", headers=me, json={"preferences": {"currency": "GBP", "newsletter": True}}
    )
    invalid = await customers.patch("/api/v1/me", headers=me, json={"phone": "12345"})
    stranger = await customers.patch("/api/v1/me", headers=as_customer("cus_nobody"), json={"name": "X"})
    assert [r.status_code for r in (unchanged, private, invalid, stranger)] == [200, 200, 422, 401]
    assert await _events(customers) == before


async def test_erasure_publishes_that_the_customer_must_be_forgotten_and_nothing_personal(customers):
    customer = await register(customers, name="Charles Babbage")
    assert (await customers.delete("/api/v1/me", headers=as_customer(customer["id"]))).status_code == 204

    [erased] = await _events(customers, "CustomerErased")
    assert erased["aggregate_id"] == customer["id"]
    assert set(erased["payload"]) == {"customer_id", "erased_at"}
    assert erased["payload"]["customer_id"] == customer["id"]

    again = await customers.delete("/api/v1/me", headers=as_customer(customer["id"]))
    assert again.status_code == 401
    assert len(await _events(customers, "CustomerErased")) == 1
