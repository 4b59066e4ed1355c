"""What notifications reads back from its database carries its UTC offset (date-time): the sent log
and the kernel's dead letters."""

from __future__ import annotations

from mercato.platform.consumers import ConsumerSettings
from tests.notifications.factories import email_address, placed, registered
from tests.timestamps import assert_utc


async def test_the_sent_log_and_dead_letters_answer_utc_timestamps(notifications, mail_sink):
    notifications.app.state.consumer.settings = ConsumerSettings(max_attempts=1, retry_base_seconds=0.05)
    customer = registered(email=email_address())
    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)
    await notifications.publish(placed(customer_id="cus_nobody"))  # unknown: dead-lettered

    log = await notifications.settled(customer_id=customer.customer_id)
    assert_utc({"data": log}, "data.0.created_at", "data.0.event_occurred_at", "data.0.sent_at")
    assert_utc({"data": await notifications.dead_letters()}, "data.0.created_at", "data.0.updated_at")
