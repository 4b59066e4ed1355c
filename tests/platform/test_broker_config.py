"""The broker is chosen by configuration alone: the URL's scheme picks NATS, RabbitMQ or Kafka."""

from __future__ import annotations

import pytest

from mercato.platform.broker import Broker, BrokerSettings
from mercato.platform.messaging import Subscription


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("nats://127.0.0.1:4222", "nats"),
        ("tls://nats.internal:4222", "nats"),
        ("amqp://guest:guest@127.0.0.1:5672/", "rabbitmq"),
        ("amqps://user:secret@mq.internal/shop", "rabbitmq"),
        ("kafka://kafka-1:9092,kafka-2:9092", "kafka"),
    ],
)
def test_the_url_scheme_picks_the_broker(url, kind):
    assert BrokerSettings(url=url).kind == kind


def test_an_unknown_scheme_is_a_clear_configuration_error():
    with pytest.raises(ValueError, match="unknown broker scheme 'redis'"):
        _ = BrokerSettings(url="redis://127.0.0.1:6379").kind


def test_the_default_is_the_embedded_nats_of_the_topology(monkeypatch):
    monkeypatch.setenv("MERCATO_PORT_OFFSET", "1000")
    assert BrokerSettings().resolved_url() == "nats://127.0.0.1:5322"


def test_a_kafka_subscription_is_a_consumer_group_on_the_aggregate_topic():
    """Kafka is not on the CI machine; this checks the configuration FastStream is given, without a
    connection: one topic per aggregate, one consumer group per service."""
    broker = Broker(BrokerSettings(url="kafka://kafka-1:9092,kafka-2:9092", namespace="shop"))

    async def handle(deliveries):
        return None

    broker.subscribe(Subscription("notifications", "order", ("OrderPlaced",)), handle)
    [subscriber] = broker.client.subscribers
    assert [topic.name for topic in subscriber.topics] == ["shop.order"]
    assert subscriber.group_id == "shop.notifications"


def test_names_carry_the_namespace():
    broker = Broker(BrokerSettings(url="nats://127.0.0.1:4222", namespace="eu"))
    subscription = Subscription("catalog", "order", ("OrderStatusChanged",))
    assert broker.stream_name == "EU"
    assert broker.subject("order", "OrderPlaced") == "eu.order.OrderPlaced"
    assert broker.queue_name(subscription) == "eu.catalog.order"
    assert subscription.name == "catalog-order"
