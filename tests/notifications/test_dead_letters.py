"""Events notifications can't act on yet are retried, then parked as dead letters, and replayed once
the cause is fixed; an erased customer is forgotten for good."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mercato.platform.consumers import ConsumerSettings
from mercato.platform.crypto import is_ciphertext
from tests.notifications.factories import (
    email_address,
    envelope,
    erased,
    placed,
    refunded,
    registered,
    updated,
)


@pytest.fixture
def impatient(notifications):
    """Give up after two attempts, 50 ms apart (the default is five over three seconds)."""
    notifications.app.state.consumer.settings = ConsumerSettings(max_attempts=2, retry_base_seconds=0.05)
    return notifications


async def test_an_order_before_its_customer_is_dead_lettered_then_replayed_once(impatient, mail_sink):
    notifications = impatient
    customer = registered(email=email_address())
    order = placed(customer_id=customer.customer_id)
    order_envelope = envelope(order)

    await notifications.deliver(order_envelope)  # the CustomerRegistered has not arrived yet

    [dead] = await notifications.dead_letters()
    assert (dead["event_id"], dead["event_type"]) == (order_envelope["event_id"], "OrderPlaced")
    assert dead["handler"] == "send_order_confirmation"
    assert dead["attempts"] == 2
    assert dead["status"] == "dead"
    assert "RecipientUnknown" in dead["error"] and customer.customer_id in dead["error"]
    async with notifications.app.state.db.read() as session:  # at rest, the error and event are encrypted
        error, envelope_ = (await session.execute(text("SELECT error, envelope FROM dead_letters"))).one()
    assert is_ciphertext(error) and "RecipientUnknown" not in error
    assert customer.customer_id not in str(envelope_)
    assert await notifications.messages(order_id=order.order_id) == []

    # replaying before the cause is fixed fails again, and the dead letter stays
    early = await notifications.client.post(f"/internal/dead-letters/{dead['id']}/replay")
    assert early.status_code == 409, early.text
    assert early.json()["title"]
    [still_dead] = await notifications.dead_letters()
    assert (still_dead["id"], still_dead["attempts"]) == (dead["id"], 3)

    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)  # the welcome

    replay = await notifications.client.post(f"/internal/dead-letters/{dead['id']}/replay")
    assert replay.status_code == 200, replay.text
    assert replay.json() == {"id": dead["id"], "status": "replayed", "took_effect": True}

    mails = await mail_sink.wait_for(customer.email, count=2)
    assert mails[0]["subject"] == f"Your order {order.order_id} is confirmed"
    assert await notifications.dead_letters() == []

    # a second replay, and a late redelivery of the event itself, take no effect
    again = await notifications.client.post(f"/internal/dead-letters/{dead['id']}/replay")
    assert again.status_code == 200
    assert again.json()["took_effect"] is False
    await notifications.deliver(order_envelope)
    assert len(await notifications.settled(order_id=order.order_id)) == 1
    assert len(await mail_sink.messages(customer.email)) == 2


async def test_an_erased_customer_is_forgotten(impatient, mail_sink):
    notifications = impatient
    customer = registered(email=email_address(), name="Erika Mustermann")
    order = placed(customer_id=customer.customer_id)
    registration = envelope(customer)
    await notifications.deliver(registration)
    await notifications.publish(order)
    await mail_sink.wait_for(customer.email, count=2)
    await notifications.settled(customer_id=customer.customer_id)

    await notifications.publish(erased(customer_id=customer.customer_id))

    log = await notifications.messages(customer_id=customer.customer_id)
    assert sorted(m["kind"] for m in log) == ["order_confirmation", "welcome"]
    assert {m["to_address"] for m in log} == {"(erased)"}
    assert {m["subject"] for m in log} == {None}
    assert {m["status"] for m in log} == {"sent"}  # the facts stay: what was sent, and when
    assert all("Erika" not in str(m) and customer.email not in str(m) for m in log)

    # a later order (or a redelivered registration) must not reach the old address: nothing is written
    later = placed(customer_id=customer.customer_id)
    await notifications.deliver(registration)
    await notifications.deliver(envelope(later))

    assert await notifications.messages(order_id=later.order_id) == []
    assert len(await notifications.messages(customer_id=customer.customer_id)) == 2
    assert len(await mail_sink.messages(customer.email)) == 2


async def test_an_update_from_before_the_erasure_does_not_bring_the_customer_back(impatient, mail_sink):
    notifications = impatient
    customer = registered(email=email_address())
    order = placed(customer_id=customer.customer_id)
    await notifications.publish(customer, order)
    await mail_sink.wait_for(customer.email, count=2)
    # An update made before the erasure, handled only after it: say it was dead-lettered (its handler
    # failed for a while) and an operator replays every dead letter once the cause is fixed.
    stale_update = envelope(updated(customer_id=customer.customer_id, email=customer.email))
    await notifications.publish(erased(customer_id=customer.customer_id))

    await notifications.deliver(stale_update)
    await notifications.publish(
        refunded(customer_id=customer.customer_id, order_id=order.order_id, amount=1000)
    )

    log = await notifications.messages(order_id=order.order_id)
    assert [m["kind"] for m in log] == ["order_confirmation"]  # no refund message was written
    await notifications.settled(customer_id=customer.customer_id)
    assert len(await mail_sink.messages(customer.email)) == 2  # nothing more to the erased address


async def test_a_registration_that_arrives_after_the_erasure_sends_no_welcome(impatient, mail_sink):
    notifications = impatient
    customer = registered(email=email_address())
    registration = envelope(customer)  # registered first, but delayed (retried, or replayed later)

    await notifications.publish(erased(customer_id=customer.customer_id))
    await notifications.deliver(registration)
    await notifications.publish(placed(customer_id=customer.customer_id))

    assert await notifications.messages(customer_id=customer.customer_id) == []
    # A later customer's welcome arriving proves the dispatcher had its turn.
    other = registered(email=email_address())
    await notifications.publish(other)
    await mail_sink.wait_for(other.email)
    assert await mail_sink.messages(customer.email) == []
