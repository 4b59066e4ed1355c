"""Customers hear from the shop only on the channels they opted into; SMS go out through the real
twilio SDK to the Twilio-compatible sandbox."""

from __future__ import annotations

from tests.notifications.factories import (
    email_address,
    line,
    phone_number,
    placed,
    registered,
    status_changed,
    updated,
)


async def test_a_customer_who_opted_out_of_email_gets_none_and_the_log_says_why(notifications, mail_sink):
    customer = registered(email=email_address(), email_opt_in=False)
    order = placed(customer_id=customer.customer_id)

    await notifications.publish(customer, order)

    log = await notifications.settled(customer_id=customer.customer_id)
    assert sorted((m["kind"], m["channel"], m["status"]) for m in log) == [
        ("order_confirmation", "email", "skipped"),
        ("welcome", "email", "skipped"),
    ]
    assert {m["last_error"] for m in log} == {"the customer opted out of e-mail"}
    assert {m["attempts"] for m in log} == {0}
    assert await mail_sink.messages(customer.email) == []  # nothing pending: nothing will ever arrive


async def test_an_sms_opt_in_with_a_phone_gets_the_confirmation_by_sms_too(
    notifications, mail_sink, sms_sandbox
):
    phone = phone_number()
    customer = registered(email=email_address(), phone=phone, sms=True)
    order = placed(customer_id=customer.customer_id, lines=[line(quantity=2, amount=2999)])

    await notifications.publish(customer, order)

    [sms] = await sms_sandbox.wait_for(phone)
    assert sms["to"] == phone
    assert sms["from"] == "+15005550006"
    assert sms["body"] == (
        f"Mercato: thank you! Order {order.order_id} (€59.98) is confirmed. "
        f"http://127.0.0.1:8000/orders/{order.order_id}"
    )
    await mail_sink.wait_for(customer.email, count=2)  # the e-mails go out as well

    log = await notifications.settled(order_id=order.order_id)
    by_channel = {m["channel"]: m for m in log}
    assert set(by_channel) == {"email", "sms"}
    assert by_channel["sms"]["status"] == "sent"
    assert by_channel["sms"]["to_address"] == phone
    assert by_channel["sms"]["provider_id"] == sms["sid"]  # Twilio's message SID, as the SDK returned it
    # the welcome has no SMS version
    assert [m["channel"] for m in await notifications.messages(customer_id=customer.customer_id)].count(
        "sms"
    ) == 1


async def test_shipping_is_texted_with_carrier_and_tracking_number(notifications, mail_sink, sms_sandbox):
    phone = phone_number()
    customer = registered(email=email_address(), phone=phone, sms=True)
    order = placed(customer_id=customer.customer_id)
    await notifications.publish(customer, order)
    await sms_sandbox.wait_for(phone)

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            to_state="shipped",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        )
    )

    texts = await sms_sandbox.wait_for(phone, count=2)
    assert (
        texts[0]["body"]
        == f"Mercato: order {order.order_id} has shipped with UPS, tracking 1Z999AA10123456784. "
        "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    # the delivery e-mail has no SMS version: nothing more is texted
    await notifications.publish(
        status_changed(customer_id=customer.customer_id, order_id=order.order_id, to_state="delivered")
    )
    await mail_sink.wait_for(customer.email, count=4)
    await notifications.settled(customer_id=customer.customer_id)
    assert len(await sms_sandbox.messages(phone)) == 2


async def test_a_number_twilio_refuses_fails_the_sms_at_once_and_the_email_still_goes(
    notifications, mail_sink, sms_sandbox
):
    invalid = "+15005550001"  # Twilio's magic test number for "not a valid phone number"
    customer = registered(email=email_address(), phone=invalid, sms=True)
    order = placed(customer_id=customer.customer_id)

    await notifications.publish(customer, order)

    await mail_sink.wait_for(customer.email, count=2)
    log = await notifications.settled(order_id=order.order_id)
    by_channel = {m["channel"]: m for m in log}
    assert by_channel["email"]["status"] == "sent"
    sms = by_channel["sms"]
    assert (sms["status"], sms["attempts"]) == ("failed", 1)  # permanent: not retried
    assert "21211" in sms["last_error"] or "not a valid phone number" in sms["last_error"]
    assert sms["provider_id"] is None


async def test_a_phone_without_sms_opt_in_gets_no_sms(notifications, mail_sink, sms_sandbox):
    phone = phone_number()
    customer = registered(email=email_address(), phone=phone, sms=False)
    order = placed(customer_id=customer.customer_id)

    await notifications.publish(customer, order)

    await mail_sink.wait_for(customer.email, count=2)
    log = await notifications.settled(order_id=order.order_id)
    assert {(m["channel"], m["status"]) for m in log} == {("email", "sent"), ("sms", "skipped")}
    assert await sms_sandbox.messages(phone) == []


async def test_updated_opt_ins_and_address_are_honoured_for_later_orders(notifications, mail_sink):
    old_address, new_address = email_address(), email_address()
    customer = registered(email=old_address)
    await notifications.publish(customer)
    await mail_sink.wait_for(old_address)

    # the customer turns e-mail off: the next order's confirmation is not sent
    await notifications.publish(
        updated(customer_id=customer.customer_id, email=old_address, email_opt_in=False)
    )
    quiet = placed(customer_id=customer.customer_id)
    await notifications.publish(quiet)
    [skipped] = await notifications.settled(order_id=quiet.order_id)
    assert skipped["status"] == "skipped"

    # ... then back on, with a new address: the next one goes there
    await notifications.publish(
        updated(customer_id=customer.customer_id, email=new_address, email_opt_in=True)
    )
    loud = placed(customer_id=customer.customer_id)
    await notifications.publish(loud)
    [mail] = await mail_sink.wait_for(new_address)
    assert mail["subject"] == f"Your order {loud.order_id} is confirmed"

    await notifications.settled(customer_id=customer.customer_id)
    assert [m["subject"] for m in await mail_sink.messages(old_address)] == [
        "Welcome to Mercato, Ada Lovelace"
    ]
