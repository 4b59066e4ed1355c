"""Notifications on a real NATS JetStream: an event it can't handle yet goes back to the broker for a
later delivery, so the e-mails behind it are not held up; once its cause is fixed it takes effect once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from mercato.bench import metric_value
from mercato.contracts.events import Event
from mercato.platform.broker import BrokerSettings, EventPublisher
from mercato.platform.messaging import OutboundEvent
from mercato.services.notifications.main import build_app
from mercato.services.notifications.settings import NotificationsSettings
from tests.notifications.conftest import Service, eventually
from tests.notifications.factories import email_address, envelope, placed, registered
from tests.platform.brokers import NatsServer, settings_for


@pytest.fixture
async def on_nats(
    databases, backend, mail_sink, sms_sandbox, tmp_path, monkeypatch
) -> AsyncIterator[Service]:
    nats = NatsServer(tmp_path / "jetstream")
    nats.start()
    broker = settings_for("nats", nats)
    monkeypatch.setenv("MERCATO_BROKER_ENABLED", "true")
    monkeypatch.setenv("MERCATO_BROKER_URL", broker.url)
    monkeypatch.setenv("MERCATO_BROKER_NAMESPACE", broker.namespace)
    # Retried for a minute before it would be dead-lettered, at most a second apart.
    monkeypatch.setenv("MERCATO_CONSUMER_MAX_ATTEMPTS", "60")
    monkeypatch.setenv("MERCATO_CONSUMER_RETRY_MAX_SECONDS", "1")
    settings = NotificationsSettings(
        environment="test",
        database_url=await databases.fresh("notifications", backend),
        cursor_secret="test-cursor-secret",
        smtp_port=mail_sink.smtp_port,
        smtp_timeout_seconds=2,
        twilio_api_base_url=sms_sandbox.web_url,
        dispatch_interval_seconds=0.2,
    )
    app = build_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://notifications"
            ) as client,
        ):
            await eventually(
                lambda: _true(app.state.consumer.broker is not None), bool, what="the consumer subscribed"
            )
            service = Service(app, client)
            service.broker = broker  # type: ignore[attr-defined]
            yield service
    finally:
        nats.stop()


async def _true(value: bool) -> bool:
    return value


async def _publish(broker: BrokerSettings, *events: Event) -> list[dict[str, Any]]:
    """Through the broker, as the services' relays publish them; returns the envelopes."""
    publisher = EventPublisher(broker)
    envelopes = []
    try:
        for event in events:
            envelopes.append(envelope(event))
            await publisher.publish(
                [
                    OutboundEvent(
                        event_id=envelopes[-1]["event_id"],
                        event_type=event.type,
                        aggregate_type=event.aggregate,
                        aggregate_id=getattr(event, "order_id", None) or getattr(event, "customer_id", ""),
                        body=orjson.dumps(envelopes[-1]),
                        headers={},
                    )
                ]
            )
    finally:
        await publisher.close()
    return envelopes


async def test_a_poison_event_does_not_hold_up_the_e_mails_behind_it(on_nats, mail_sink):
    notifications = on_nats
    stranger = registered(email=email_address())  # notifications has not heard of them yet
    stranger_order = placed(customer_id=stranger.customer_id)
    customer = registered(email=email_address())
    order = placed(customer_id=customer.customer_id)

    # The stranger's order first, on the same subscription (orders) as the order behind it.
    await _publish(notifications.broker, stranger_order, customer, order)

    mails = await mail_sink.wait_for(customer.email, count=2)
    assert {m["subject"] for m in mails} >= {f"Your order {order.order_id} is confirmed"}
    # ... while the stranger's order is still being retried: not given up on, and nothing written yet.
    assert await notifications.dead_letters() == []
    assert await notifications.messages(order_id=stranger_order.order_id) == []
    metrics = (await notifications.client.get("/metrics")).text
    assert metric_value(
        metrics, "mercato_events_consumed_total", handler="send_order_confirmation", outcome="retried"
    )

    # Its cause fixed (the registration arrives), a later delivery takes effect — once.
    await _publish(notifications.broker, stranger)
    mails = await mail_sink.wait_for(stranger.email, count=2)
    confirmations = [m for m in mails if m["subject"] == f"Your order {stranger_order.order_id} is confirmed"]
    assert len(confirmations) == 1
    [message] = await notifications.settled(order_id=stranger_order.order_id)
    assert message["status"] == "sent"
    await asyncio.sleep(0.5)  # any further delivery of it would find its inbox row
    assert len(await mail_sink.messages(stranger.email)) == 2
    assert await notifications.dead_letters() == []
