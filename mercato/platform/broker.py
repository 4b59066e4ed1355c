"""The event broker, through FastStream: NATS JetStream by default, RabbitMQ or Kafka by configuration.

`MERCATO_BROKER_URL` picks the broker by its scheme — `nats://` (default: the embedded NATS of the
local topology), `amqp://` / `amqps://` (RabbitMQ), `kafka://host:port[,host:port]` (Kafka) — and
everything above this module is the same for all three. How events are laid out on each:

* NATS JetStream: events go to the stream `<NS>` on the subject `<ns>.<aggregate>.<Type>`, deduplicated
  on `Nats-Msg-Id` (the event id) for an hour; a subscription is a durable pull consumer
  `<service>-<aggregate>`.
* RabbitMQ: events go to the topic exchange `<ns>.events` with the routing key
  `<ns>.<aggregate>.<Type>`, persistent, with publisher confirms; a subscription is a durable queue
  `<ns>.<service>.<aggregate>` bound to `<ns>.<aggregate>.*`, and its retry queue `….retry`.
* Kafka: events go to the topic `<ns>.<aggregate>`, keyed by the aggregate id (one partition per
  aggregate, hence in order); a subscription is the consumer group `<ns>.<service>`.

Per aggregate, events stay in order on all three (one subject filter / one queue / one partition key),
and every consumer deduplicates by event id anyway (see `consumers.py`).

A consumer may ask for one delivery to come again later (`Delivery.retry_after`) while the others are
acknowledged, so an event that can't be handled yet does not hold up the ones behind it: NATS
redelivers it after the delay (a nak with delay; the delivery count is JetStream's); RabbitMQ gets a
copy in the subscription's retry queue, whose per-message TTL dead-letters it back into the queue
(the attempt travels in a header); Kafka, whose consumers can only move through a partition in order,
waits and delivers it again in place.

`MERCATO_BROKER_NAMESPACE` (default `mercato`) prefixes every name, so several installations — or
test runs — can share one broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any, Literal

from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker
from faststream.nats import JStream, NatsBroker
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.schemas import Channel
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.platform import jetstream
from mercato.platform.messaging import (
    Delivery,
    OnDeliveries,
    OutboundEvent,
    PublishStopped,
    Subscription,
)
from mercato.topology import Topology

BrokerKind = Literal["nats", "rabbitmq", "kafka"]

# FastStream's own log lines: errors and warnings reach the service's JSON log; its line per message
# ("Received", "Processed") is DEBUG, below the default level.
STOP_TIMEOUT_SECONDS = 5.0  # then the connection is simply dropped; unacked messages come again
log = logging.getLogger("mercato.broker")

_LOGGING: dict[str, Any] = {"logger": logging.getLogger("mercato.broker"), "log_level": logging.DEBUG}
ATTEMPT_HEADER = "x-mercato-attempt"  # RabbitMQ: which delivery of the event this is


class BrokerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_BROKER_", extra="ignore")

    url: str = ""  # default: the embedded NATS of the local topology; several NATS servers: comma-separated
    enabled: bool = True
    namespace: str = "mercato"
    # NATS: how many servers of a JetStream cluster keep the stream (3 on the scale-out profile).
    stream_replicas: int = 1
    # NATS: how long a delivery may stay unacknowledged before it goes to another consumer (a crashed
    # replica's deliveries come again after this).
    ack_wait_seconds: float = jetstream.ACK_WAIT_SECONDS

    def resolved_url(self) -> str:
        return self.url or Topology.from_env().broker_url

    @property
    def kind(self) -> BrokerKind:
        scheme = self.resolved_url().partition("://")[0].lower()
        if scheme in ("nats", "tls"):
            return "nats"
        if scheme in ("amqp", "amqps"):
            return "rabbitmq"
        if scheme == "kafka":
            return "kafka"
        raise ValueError(f"MERCATO_BROKER_URL: unknown broker scheme {scheme!r} (nats, amqp, amqps or kafka)")


class Broker:
    """One connection to the configured broker: publish events, consume subscriptions, declare both."""

    def __init__(self, settings: BrokerSettings, *, batch_size: int = 100, fail_fast: bool = False) -> None:
        """`fail_fast`: for publishing, give up on a lost connection at once (the relay retries on its
        own); a consumer's connection instead reconnects for as long as it takes."""
        self.settings = settings
        self.kind = settings.kind
        self.ns = settings.namespace
        self.batch_size = batch_size
        url = settings.resolved_url()
        self.client: Any
        if self.kind == "nats":
            self.client = NatsBroker(
                url.split(","),
                max_reconnect_attempts=1 if fail_fast else -1,
                reconnect_time_wait=0.5,
                connect_timeout=1.0,
                **_LOGGING,
            )
        elif self.kind == "rabbitmq":
            self.client = RabbitBroker(
                url,
                fail_fast=True,
                timeout=2.0,
                reconnect_interval=1.0,
                **_LOGGING,
                default_channel=Channel(publisher_confirms=True),
            )
        else:
            self.client = KafkaBroker(url.partition("://")[2].split(","), **_LOGGING)
        self.exchange = RabbitExchange(f"{self.ns}.events", type=ExchangeType.TOPIC, durable=True)
        self.started = False
        self._pulls: list[tuple[Subscription, OnDeliveries]] = []
        self._rabbit_subscriptions: list[Subscription] = []
        self._pull_tasks: list[asyncio.Task[None]] = []
        self._pull_subscriptions: list[Any] = []
        self._lag_readers: dict[str, Any] = {}  # NATS: subscription name -> its consumer's info

    # --- names --------------------------------------------------------------------------------------
    @property
    def stream_name(self) -> str:
        return self.ns.upper().replace(".", "_")

    def subject(self, aggregate: str, event_type: str) -> str:
        return f"{self.ns}.{aggregate}.{event_type}"

    def queue_name(self, subscription: Subscription) -> str:
        return f"{self.ns}.{subscription.service}.{subscription.aggregate}"

    def topic(self, aggregate: str) -> str:
        return f"{self.ns}.{aggregate}"

    def _stream(self) -> JStream:
        # A fresh declaration per broker: FastStream remembers on the object that it declared it.
        return JStream(
            self.stream_name,
            subjects=[f"{self.ns}.>"],
            duplicate_window=timedelta(hours=1).total_seconds(),
            num_replicas=self.settings.stream_replicas,
            declare=True,
        )

    def _queue(self, subscription: Subscription) -> RabbitQueue:
        return RabbitQueue(
            self.queue_name(subscription),
            durable=True,
            routing_key=f"{self.ns}.{subscription.aggregate}.*",
        )

    def _retry_queue(self, subscription: Subscription) -> RabbitQueue:
        """Where a delivery waits out its `retry_after` (its TTL), to be dead-lettered back, through
        the default exchange, into the subscription's queue. Nobody consumes it."""
        return RabbitQueue(
            f"{self.queue_name(subscription)}.retry",
            durable=True,
            arguments={
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue_name(subscription),
            },
        )

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.kind == "nats":
            self.client.publisher(f"{self.ns}.>", stream=self._stream())  # declares the stream on start
        await self.client.start()
        self.started = True
        if self.kind == "rabbitmq":
            await self.client.declare_exchange(self.exchange)
            for subscription in self._rabbit_subscriptions:
                await self.client.declare_queue(self._retry_queue(subscription))
        if self._pulls:
            js = self.client.config.connection_state.stream
            for subscription, on_deliveries in self._pulls:
                pull = await js.pull_subscribe(
                    f"{self.ns}.{subscription.aggregate}.>",
                    durable=subscription.name,
                    stream=self.stream_name,
                    config=self._consumer_config(subscription),
                )
                self._pull_subscriptions.append(pull)
                self._lag_readers[subscription.name] = pull.consumer_info
                self._pull_tasks.append(
                    asyncio.create_task(
                        jetstream.pull_forever(
                            pull,
                            on_deliveries,
                            batch_size=self.batch_size,
                            linger_seconds=subscription.linger_seconds,
                        )
                    )
                )

    async def stop(self) -> None:
        self.started = False
        for task in self._pull_tasks:
            task.cancel()
        for task in self._pull_tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pull_tasks.clear()
        # Our pull subscriptions live on FastStream's connection, which drains on stop: a subscription
        # with a fetch still pending would hold that drain for its whole timeout (30 s). Closing their
        # inboxes first keeps the durable consumers (the broker remembers where each one is).
        for pull in self._pull_subscriptions:
            with contextlib.suppress(Exception):
                await pull.unsubscribe()
        self._pull_subscriptions.clear()
        self._lag_readers.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.stop(), timeout=STOP_TIMEOUT_SECONDS)

    def _consumer_config(self, subscription: Subscription) -> Any:
        return jetstream.consumer_config(
            subscription,
            filter_subject=f"{self.ns}.{subscription.aggregate}.>",
            ack_wait=self.settings.ack_wait_seconds,
        )

    async def lag(self) -> dict[str, int]:
        """Per subscription, the events on the broker not acknowledged yet (for /metrics): on NATS its
        durable consumer's pending and delivered-but-unacknowledged messages (in hand, or waiting out
        a retry); on RabbitMQ the messages ready in its queue and its retry queue. Kafka: none (its
        consumer groups' lag is read from Kafka's own exporter)."""
        if self.kind == "nats":
            lag = {}
            for name, consumer_info in self._lag_readers.items():
                info = await consumer_info()
                lag[name] = info.num_pending + info.num_ack_pending
            return lag
        if self.kind == "rabbitmq":
            lag = {}
            for subscription in self._rabbit_subscriptions:
                lag[subscription.name] = 0
                for queue in (self._queue(subscription), self._retry_queue(subscription)):
                    declared = await self.client.declare_queue(queue)  # FastStream's, remembered
                    lag[subscription.name] += (await declared.declare()).message_count or 0
            return lag
        return {}

    # --- publishing -------------------------------------------------------------------------------
    async def publish(self, events: list[OutboundEvent]) -> None:
        """Publish a batch, in order, and wait for the broker's acknowledgements (stored); raises
        `PublishStopped` at the first event that was not acknowledged. NATS gets the whole batch at
        once and acknowledges it asynchronously; RabbitMQ and Kafka one event after the other."""
        if self.kind == "nats":
            js = self.client.config.connection_state.stream  # nats-py's JetStream context
            await jetstream.publish_batch(js, events, stream=self.stream_name, subject=self.subject)
            return
        for position, event in enumerate(events):
            try:
                await self._publish_one(event)
            except Exception as exc:
                raise PublishStopped(position, exc) from exc

    async def _publish_one(self, event: OutboundEvent) -> None:
        headers = {**event.headers, "event-id": event.event_id, "event-type": event.event_type}
        if self.kind == "rabbitmq":
            await self.client.publish(
                event.body,
                exchange=self.exchange,
                routing_key=self.subject(event.aggregate_type, event.event_type),
                headers=headers,
                message_id=event.event_id,
                content_type="application/json",
                persist=True,
                mandatory=False,  # no subscriber yet is not an error
                timeout=5.0,
            )
        else:
            await self.client.publish(
                event.body,
                self.topic(event.aggregate_type),
                key=event.aggregate_id.encode(),
                headers=headers,
            )

    # --- consuming --------------------------------------------------------------------------------
    def subscribe(self, subscription: Subscription, on_deliveries: OnDeliveries) -> None:
        """Register a durable subscription (before `start`). Deliveries are handled one batch at a
        time, in order; a batch is acknowledged only after `on_deliveries` returns."""
        if self.kind == "nats":
            self._pulls.append((subscription, on_deliveries))  # pulled by `jetstream.pull_forever`
        elif self.kind == "rabbitmq":
            retry_queue = self._retry_queue(subscription)
            self._rabbit_subscriptions.append(subscription)

            @self.client.subscriber(
                self._queue(subscription),
                self.exchange,
                # One unacknowledged message at a time: RabbitMQ then hands them over strictly in order.
                channel=Channel(prefetch_count=1),
                ack_policy=AckPolicy.NACK_ON_ERROR,
                include_in_schema=False,
            )
            async def on_rabbit(message: Any = Context("message")) -> None:
                headers = {k: str(v) for k, v in (message.raw_message.headers or {}).items()}
                delivery = Delivery(message.body, headers, attempt=int(headers.get(ATTEMPT_HEADER, "1")))
                await on_deliveries([delivery])
                if delivery.retry_after is not None:  # then this one is acknowledged
                    await self.client.publish(
                        message.body,
                        queue=retry_queue,
                        headers={**headers, ATTEMPT_HEADER: str(delivery.attempt + 1)},
                        message_id=message.message_id,
                        content_type=message.content_type,
                        persist=True,
                        expiration=delivery.retry_after,
                        timeout=5.0,
                    )

        else:

            @self.client.subscriber(
                self.topic(subscription.aggregate),
                group_id=f"{self.ns}.{subscription.service}",
                auto_offset_reset="earliest" if subscription.start == "all" else "latest",
                ack_policy=AckPolicy.NACK_ON_ERROR,
                include_in_schema=False,
            )
            async def on_kafka(message: Any = Context("message")) -> None:
                headers = {k: v.decode() for k, v in (message.raw_message.headers or ())}
                delivery = Delivery(message.body, headers)
                await on_deliveries([delivery])
                while delivery.retry_after is not None:  # in place: a partition is read in order
                    await asyncio.sleep(delivery.retry_after)
                    delivery = Delivery(message.body, headers, attempt=delivery.attempt + 1)
                    await on_deliveries([delivery])

    async def declare(self, subscriptions: list[Subscription]) -> None:
        """Create the stream/exchange and every subscription's durable consumer or queue, so that
        events published before a consumer first runs wait for it (run by `mercato broker setup`,
        which `mercato up` calls, like a migration). An existing NATS consumer is brought up to this
        configuration (JetStream updates what it allows to change, such as `max_ack_pending`)."""
        if self.kind == "nats":
            js = self.client.config.connection_state.stream  # nats-py's JetStream context
            for subscription in subscriptions:
                await js.add_consumer(self.stream_name, self._consumer_config(subscription))
        elif self.kind == "rabbitmq":
            exchange = await self.client.declare_exchange(self.exchange)
            for subscription in subscriptions:
                queue = await self.client.declare_queue(self._queue(subscription))
                await queue.bind(exchange, routing_key=f"{self.ns}.{subscription.aggregate}.*")
                await self.client.declare_queue(self._retry_queue(subscription))
        # Kafka keeps every topic's log; a new consumer group starts where `start` says.


class EventPublisher:
    """Publishes through a broker connection made on first use and again after the broker went away,
    so a service starts and serves while the broker is down; the relay simply retries."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.broker: Broker | None = None

    async def _connected(self) -> Broker:
        if self.broker is None:
            broker = Broker(self.settings, fail_fast=True)
            try:
                await broker.start()
            except BaseException:
                await broker.stop()
                raise
            self.broker = broker
        return self.broker

    async def publish(self, events: list[OutboundEvent]) -> None:
        """Publish a batch in order (see `Broker.publish`)."""
        broker = await self._connected()
        try:
            await broker.publish(events)
        except Exception:
            await self.close()  # reconnect next time
            raise

    async def close(self) -> None:
        broker, self.broker = self.broker, None
        if broker is not None:
            await broker.stop()
