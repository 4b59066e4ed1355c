"""Once per purpose: however often the broker redelivers an order's events, the customer gets one
confirmation."""

from __future__ import annotations

from tests.notifications.factories import email_address, envelope, placed, registered


async def test_a_redelivered_and_a_repeated_order_placed_yield_one_confirmation(notifications, mail_sink):
    customer = registered(email=email_address())
    await notifications.publish(customer)
    order = placed(customer_id=customer.customer_id)
    first = envelope(order)

    await notifications.deliver(first)
    await notifications.deliver(first)  # a redelivery: the same event id
    await notifications.deliver(first, first)  # twice in one batch
    await notifications.deliver(envelope(order))  # the same fact, published again with a new event id

    await mail_sink.wait_for(customer.email, count=2)
    log = await notifications.settled(order_id=order.order_id)
    assert [(m["kind"], m["status"], m["event_id"]) for m in log] == [
        ("order_confirmation", "sent", first["event_id"])
    ]
    # Everything is sent (nothing pending): what the sink holds now is final.
    mails = await mail_sink.messages(customer.email)
    confirmations = [m for m in mails if m["subject"] == f"Your order {order.order_id} is confirmed"]
    assert len(confirmations) == 1

    # ... and a redelivery after it was sent changes nothing either
    await notifications.deliver(first)
    assert len(await notifications.settled(order_id=order.order_id)) == 1
    assert len(await mail_sink.messages(customer.email)) == 2


async def test_every_order_gets_its_own_confirmation(notifications, mail_sink):
    customer = registered(email=email_address())
    await notifications.publish(customer)
    orders = [placed(customer_id=customer.customer_id) for _ in range(3)]

    await notifications.deliver(*(envelope(order) for order in orders))  # one batch, one transaction

    mails = await mail_sink.wait_for(customer.email, count=4)
    assert sorted(m["subject"] for m in mails if m["subject"].startswith("Your order")) == sorted(
        f"Your order {order.order_id} is confirmed" for order in orders
    )
