"""The phones a shopper takes push notifications on: POST/DELETE /mobile/v1/devices (the gateway
forwards the verified shopper as x-mercato-customer-id; tests/e2e/test_push.py goes through it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mercato.contracts.events import CustomerSessionsRevoked
from mercato.platform.ids import new_id
from tests.notifications.factories import apns_token, email_address, erased, fcm_token, registered

PROBLEM = "application/problem+json"


async def test_registering_is_idempotent_and_a_token_moves_to_whoever_registers_it_last(notifications):
    ada, bob, token = new_id("cus"), new_id("cus"), apns_token()

    first = await notifications.register_device(ada, "ios", token)
    assert first.status_code == 201, first.text
    assert first.json()["platform"] == "ios" and first.json()["token"] == token
    again = await notifications.register_device(ada, "ios", token.upper())  # the same token, other case
    assert again.status_code == 200, again.text
    assert again.json() == first.json()  # same device, same created_at

    moved = await notifications.register_device(bob, "ios", token)  # Bob signs in on Ada's phone
    assert moved.status_code == 201, moved.text
    assert (await notifications.communications(ada))["devices"] == []
    [device] = (await notifications.communications(bob))["devices"]
    assert (device["platform"], device["token"]) == ("ios", token)


async def test_a_customer_may_have_several_devices_of_both_platforms(notifications):
    ada, phone, tablet, android = new_id("cus"), apns_token(), apns_token(), fcm_token()
    for platform, token in (("ios", phone), ("ios", tablet), ("android", android)):
        assert (await notifications.register_device(ada, platform, token)).status_code == 201

    devices = (await notifications.communications(ada))["devices"]
    assert sorted((d["platform"], d["token"]) for d in devices) == sorted(
        [("ios", phone), ("ios", tablet), ("android", android)]
    )


async def test_deleting_a_device_is_204_and_so_is_deleting_it_again(notifications):
    ada, bob, token = new_id("cus"), new_id("cus"), fcm_token()
    await notifications.register_device(ada, "android", token)

    assert (await notifications.unregister_device(bob, token)).status_code == 204  # not Bob's: untouched
    assert len((await notifications.communications(ada))["devices"]) == 1
    assert (await notifications.unregister_device(ada, token)).status_code == 204
    assert (await notifications.communications(ada))["devices"] == []
    assert (await notifications.unregister_device(ada, token)).status_code == 204


async def test_without_a_shopper_it_is_401(notifications):
    response = await notifications.register_device(None, "ios", apns_token())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert (await notifications.unregister_device(None, apns_token())).status_code == 401


@pytest.mark.parametrize(
    ("platform", "token"),
    [
        ("windows", "a" * 64),  # no such platform
        ("ios", "a" * 63),  # an APNs token is 64 hex characters
        ("ios", "g" * 64),
        ("ios", fcm_token()),
        ("android", "short"),  # an FCM token is a long opaque string ...
        ("android", "x" * 4097),  # ... but not an endless one
        ("android", "has spaces and ; semicolons" * 3),
        ("android", ""),
    ],
)
async def test_a_bad_platform_or_token_is_a_422_problem(notifications, platform, token):
    response = await notifications.register_device(new_id("cus"), platform, token)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 422


async def test_an_erased_customer_cannot_register_a_device(notifications):
    customer = registered(email=email_address())
    await notifications.publish(customer, erased(customer_id=customer.customer_id))

    response = await notifications.register_device(customer.customer_id, "ios", apns_token())
    assert response.status_code == 401, response.text  # their sessions ended with the erasure
    assert (await notifications.communications(customer.customer_id))["devices"] == []


async def test_a_token_of_a_session_that_ended_cannot_register_a_device(notifications):
    customer_id = new_id("cus")
    now = datetime.now(UTC)
    valid_after = int(now.timestamp()) + 1
    await notifications.publish(
        CustomerSessionsRevoked(
            customer_id=customer_id, reason="signed_out_everywhere", revoked_at=now, valid_after=valid_after
        )
    )
    token = apns_token()
    old = {"x-mercato-customer-id": customer_id, "x-mercato-token-issued-at": str(valid_after - 5)}
    refused = await notifications.client.post(
        "/mobile/v1/devices", json={"platform": "ios", "token": token}, headers=old
    )
    assert refused.status_code == 401, refused.text

    fresh = {"x-mercato-customer-id": customer_id, "x-mercato-token-issued-at": str(valid_after)}
    accepted = await notifications.client.post(
        "/mobile/v1/devices", json={"platform": "ios", "token": token}, headers=fresh
    )
    assert accepted.status_code == 201, accepted.text
