"""Pushes through the real clients to the APNs and FCM stand-ins (tests/notifications/conftest.py):
aioapns over HTTP/2 and TLS with a provider token, google-auth's OAuth exchange then FCM HTTP v1 —
once per device and purpose, only with the push opt-in, and a device whose token is gone is removed."""

from __future__ import annotations

import asyncio

import httpx

from tests.notifications.conftest import PUSH_TOPOLOGY, eventually
from tests.notifications.factories import (
    apns_token,
    email_address,
    envelope,
    erased,
    fcm_token,
    placed,
    refunded,
    registered,
    status_changed,
    updated,
)


async def _customer_with_devices(notifications, *, push: bool = True):
    customer = registered(email=email_address(), push=push)
    await notifications.publish(customer)
    iphone, android = apns_token(), fcm_token()
    assert (await notifications.register_device(customer.customer_id, "ios", iphone)).status_code == 201
    assert (await notifications.register_device(customer.customer_id, "android", android)).status_code == 201
    return customer, iphone, android


async def test_an_order_placed_is_one_push_to_each_device_through_apns_and_fcm(notifications, push_sandbox):
    customer, iphone, android = await _customer_with_devices(notifications)
    order = placed(customer_id=customer.customer_id, number="M-10042")

    await notifications.publish(order)

    [apns] = await push_sandbox.wait_for(iphone)
    assert apns["provider"] == "apns" and apns["status"] == 200, apns
    assert apns["http_version"] == "2"  # the stand-in's listener speaks HTTP/2 only, over TLS
    assert apns["headers"]["apns-topic"] == "org.mercato.shop"
    assert apns["headers"]["apns-push-type"] == "alert"
    # 200: the provider token checked out (signed by the .p8 key, issued this hour), and it was this one
    assert apns["provider_token"] == {"alg": "ES256", "kid": "MERCATO0KY", "iss": "MERCATO0TM"}
    assert apns["title"] == "Order M-10042 is confirmed"
    assert apns["body"] == "Thank you! €29.99, we are getting it ready."
    assert apns["data"] == {"order_id": order.order_id, "type": "order_confirmation"}
    assert apns["payload"]["aps"]["alert"] == {"title": apns["title"], "body": apns["body"]}

    [fcm] = await push_sandbox.wait_for(android)
    assert fcm["provider"] == "fcm" and fcm["status"] == 200, fcm
    assert fcm["bearer"] == "issued by /token"  # google-auth's OAuth exchange, then the v1 send
    assert (fcm["title"], fcm["body"]) == (apns["title"], apns["body"])
    assert fcm["data"] == {"order_id": order.order_id, "type": "order_confirmation"}
    async with httpx.AsyncClient() as client:  # the bearer was an access token the OAuth endpoint issued
        pushes = (await client.get(f"{PUSH_TOPOLOGY.push_sandbox_url}/_sandbox/pushes")).json()
    assert pushes["access_tokens_issued"] >= 1

    log = await notifications.settled(order_id=order.order_id)
    pushed = sorted((m["platform"], m["status"], m["to_address"]) for m in log if m["channel"] == "push")
    assert pushed == sorted([("ios", "sent", iphone), ("android", "sent", android)])
    by_platform = {m["platform"]: m for m in log if m["channel"] == "push"}
    assert by_platform["ios"]["provider_id"] == apns["headers"]["apns-id"]
    assert by_platform["android"]["provider_id"].startswith("projects/mercato-sandbox/messages/")


async def test_a_customer_who_opted_out_of_push_gets_none_and_the_log_says_why(notifications, push_sandbox):
    customer, iphone, android = await _customer_with_devices(notifications, push=False)
    order = placed(customer_id=customer.customer_id)

    await notifications.publish(order)

    log = await notifications.settled(order_id=order.order_id)
    pushes = [m for m in log if m["channel"] == "push"]
    assert sorted((m["platform"], m["status"]) for m in pushes) == [
        ("android", "skipped"),
        ("ios", "skipped"),
    ]
    assert {m["last_error"] for m in pushes} == {"the customer opted out of push"}
    assert await push_sandbox.pushes(iphone) == [] and await push_sandbox.pushes(android) == []


async def test_opting_in_later_is_honoured_from_then_on(notifications, push_sandbox):
    customer, iphone, _ = await _customer_with_devices(notifications, push=False)
    await notifications.publish(placed(customer_id=customer.customer_id))
    await notifications.publish(updated(customer_id=customer.customer_id, email=customer.email, push=True))

    await notifications.publish(placed(customer_id=customer.customer_id))

    assert len(await push_sandbox.wait_for(iphone)) == 1


async def test_a_redelivered_order_placed_is_still_one_push_per_device(notifications, push_sandbox):
    customer, iphone, android = await _customer_with_devices(notifications)
    order = placed(customer_id=customer.customer_id)
    first = envelope(order)

    await notifications.deliver(first)
    await notifications.deliver(first, first)
    await notifications.deliver(envelope(order))  # the same fact with a new event id

    await notifications.settled(order_id=order.order_id)
    assert len(await push_sandbox.pushes(iphone)) == 1
    assert len(await push_sandbox.pushes(android)) == 1


async def test_shipped_delivered_and_refunded_are_pushed_with_what_matters(notifications, push_sandbox):
    customer, iphone, android = await _customer_with_devices(notifications)
    order = placed(customer_id=customer.customer_id, number="M-20001")
    await notifications.publish(order)
    await push_sandbox.wait_for(iphone)

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            to_state="shipped",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
        status_changed(customer_id=customer.customer_id, order_id=order.order_id, to_state="delivered"),
        refunded(customer_id=customer.customer_id, order_id=order.order_id, amount=1000),
    )

    for token in (iphone, android):
        pushes = await push_sandbox.wait_for(token, count=4)
        assert [(p["title"], p["body"], p["data"]["type"]) for p in reversed(pushes)][1:] == [
            ("Order M-20001 has shipped", "With UPS, tracking 1Z999AA10123456784.", "order_shipped"),
            ("Order M-20001 was delivered", "Your parcel has arrived. Enjoy!", "order_delivered"),
            ("Refund for order M-20001", "€10.00 is on its way back to you.", "payment_refunded"),
        ]


async def test_a_device_whose_token_is_gone_is_removed_after_its_first_failed_push(
    notifications, push_sandbox
):
    customer, iphone, android = await _customer_with_devices(notifications)
    await push_sandbox.unregister(iphone)  # the app was uninstalled
    await push_sandbox.unregister(android)
    order = placed(customer_id=customer.customer_id)

    await notifications.publish(order)

    log = await notifications.settled(order_id=order.order_id)
    failed = {m["platform"]: m for m in log if m["channel"] == "push"}
    assert failed["ios"]["status"] == "failed" and "410 Unregistered" in failed["ios"]["last_error"]
    assert failed["android"]["status"] == "failed" and "UNREGISTERED" in failed["android"]["last_error"]
    assert {m["attempts"] for m in failed.values()} == {1}  # not retried: it can never work
    assert (await notifications.communications(customer.customer_id))["devices"] == []

    second = placed(customer_id=customer.customer_id)
    await notifications.publish(second)
    log = await notifications.settled(order_id=second.order_id)
    assert [m["channel"] for m in log] == ["email"]  # no device left to push to
    assert len(await push_sandbox.pushes(iphone)) == 1  # the one refused attempt


async def test_erasure_removes_the_devices_and_scrubs_the_push_history(notifications, push_sandbox):
    customer, iphone, _ = await _customer_with_devices(notifications)
    order = placed(customer_id=customer.customer_id)
    await notifications.publish(order)
    await push_sandbox.wait_for(iphone)
    await notifications.settled(order_id=order.order_id)

    await notifications.publish(erased(customer_id=customer.customer_id))

    held = await notifications.communications(customer.customer_id)
    assert held["devices"] == []
    pushes = [m for m in held["messages"] if m["channel"] == "push"]
    assert len(pushes) == 2 and {m["to_address"] for m in pushes} == {"(erased)"}
    assert {m["subject"] for m in pushes} == {None}


async def test_pushes_waiting_for_a_phone_are_cancelled_when_it_signs_out_or_changes_hands(
    notifications, push_sandbox
):
    customer, iphone, android = await _customer_with_devices(notifications)
    push_sandbox.stop()  # APNs and FCM unreachable: the pushes wait, retried with backoff
    try:
        order = placed(customer_id=customer.customer_id)
        await notifications.publish(order)
        await eventually(
            lambda: notifications.messages(order_id=order.order_id),
            lambda log: (
                len(log) == 3
                and all(
                    m["status"] == "pending" and m["attempts"] >= 1 for m in log if m["channel"] == "push"
                )
            ),
            what="both pushes tried and waiting to be tried again",
        )

        assert (await notifications.unregister_device(customer.customer_id, iphone)).status_code == 204
        someone_else = registered(email=email_address(), push=True)
        await notifications.publish(someone_else)
        assert (
            await notifications.register_device(someone_else.customer_id, "android", android)
        ).status_code == 201
    finally:
        push_sandbox.start()

    log = await notifications.settled(order_id=order.order_id)
    pushes = {m["platform"]: (m["status"], m["last_error"]) for m in log if m["channel"] == "push"}
    assert pushes == {
        "ios": ("cancelled", "the device was unregistered"),
        "android": ("cancelled", "the device was signed in to another account"),
    }
    await asyncio.sleep(1)  # dispatch rounds go by: nothing of the first customer's reaches the phones
    assert await push_sandbox.pushes(iphone) == [] and await push_sandbox.pushes(android) == []
