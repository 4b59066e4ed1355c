"""An SMTP server that is down delays a message; it does not lose it, nor send it twice."""

from __future__ import annotations

import asyncio

from tests.notifications.conftest import eventually
from tests.notifications.factories import email_address, erased, placed, registered


async def test_a_message_written_while_the_smtp_server_is_down_is_sent_when_it_is_back(
    notifications, mail_sink
):
    customer = registered(email=email_address())
    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)  # the dispatcher now holds an open SMTP connection

    await asyncio.to_thread(mail_sink.stop)
    try:
        order = placed(customer_id=customer.customer_id)
        await notifications.publish(order)

        [waiting] = await eventually(
            lambda: notifications.messages(order_id=order.order_id),
            lambda rows: len(rows) == 1 and rows[0]["status"] == "pending" and rows[0]["attempts"] >= 1,
            what="a failed attempt",
        )
        assert waiting["last_error"]  # why it is waiting, for support
        assert waiting["sent_at"] is None and waiting["provider_id"] is None
    finally:
        await asyncio.to_thread(mail_sink.start)  # same ports, same Maildir

    mails = await mail_sink.wait_for(customer.email, count=2)
    assert mails[0]["subject"] == f"Your order {order.order_id} is confirmed"
    [sent] = await notifications.settled(order_id=order.order_id)
    assert sent["status"] == "sent"
    assert sent["attempts"] >= 2
    assert sent["last_error"] is None
    assert sent["provider_id"] == mails[0]["message_id"]
    assert len(await mail_sink.messages(customer.email)) == 2  # once, not once per attempt


async def test_messages_waiting_for_an_erased_customer_are_never_sent(notifications, mail_sink):
    customer = registered(email=email_address())
    order = placed(customer_id=customer.customer_id)

    await asyncio.to_thread(mail_sink.stop)
    try:
        await notifications.publish(customer, order)
        await eventually(
            lambda: notifications.messages(customer_id=customer.customer_id),
            lambda rows: len(rows) == 2 and all(r["attempts"] >= 1 for r in rows),
            what="both messages tried",
        )
        await notifications.publish(erased(customer_id=customer.customer_id))
    finally:
        await asyncio.to_thread(mail_sink.start)

    log = await notifications.messages(customer_id=customer.customer_id)
    assert {(m["status"], m["to_address"], m["last_error"]) for m in log} == {
        ("cancelled", "(erased)", "the customer was erased")
    }
    # Another customer's mail, written after: once it arrived, the dispatcher has been through the queue.
    other = registered(email=email_address())
    await notifications.publish(other)
    await mail_sink.wait_for(other.email)
    assert await mail_sink.messages(customer.email) == []
    assert {m["status"] for m in await notifications.messages(customer_id=customer.customer_id)} == {
        "cancelled"
    }
