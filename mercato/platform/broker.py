"""The event broker, through FastStream: NATS JetStream by default, RabbitMQ or Kafka by configuration.

`MERCATO_BROKER_URL` picks the broker by its scheme — `nats://` (default: the embedded NATS of the
local topology), `amqp://` / `amqps://` (RabbitMQ), `kafka://host:port[,host:port]` (Kafka) — and
everything above this module is the same for all three. How events are laid out on each:

* NATS JetStream: events go to the stream `<NS>` on the subject `<ns>.<aggregate>.<Type>`, deduplicated
  on `Nats-Msg-Id` (the event id) for an hour; a subscription is a durable pull consumer
  `<service>-<aggregate>`.
* RabbitMQ: events go to the topic exchange `<ns>.events` with the routing key
  `<ns>.<aggregate>.<Type>`, persistent, with publisher confirms; a subscription is a durable queue
  `<ns>.<service>.<aggregate>` bound to `<ns>.<aggregate>.*`.
* Kafka: events go to the topic `<ns>.<aggregate>`, keyed by the aggregate id (one partition per
  aggregate, hence in order); a subscription is the consumer group `<ns>.<service>`.

Per aggregate, events stay in order on all three (one subject filter / one queue / one partition key),
and every consumer deduplicates by event id anyway (see `consumers.py`).

`MERCATO_BROKER_NAMESPACE` (default `mercato`) prefixes every name, so several installations — or
test runs — can share one broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import nats.errors
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.schemas import Channel
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.topology import Topology

BrokerKind = Literal["nats", "rabbitmq", "kafka"]

# FastStream's own log lines: errors and warnings reach the service's JSON log; its line per message
# ("Received", "Processed") is DEBUG, below the default level.
STOP_TIMEOUT_SECONDS = 5.0  # then the connection is simply dropped; unacked messages come again
log = logging.getLogger("mercato.broker")

_LOGGING: dict[str, Any] = {"logger": logging.getLogger("mercato.broker"), "log_level": logging.DEBUG}


class BrokerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_BROKER_", extra="ignore")

    url: str = ""  # default: the embedded NATS of the local topology
    enabled: bool = True
    namespace: str = "mercato"

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


@dataclass(frozen=True)
class OutboundEvent:
    """One outbox row on its way to the broker."""

    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Subscription:
    """A service's durable subscription to the events of one aggregate."""

    service: str
    aggregate: str
    event_types: tuple[str, ...]
    start: Literal["new", "all"] = "new"  # where a brand-new subscription begins

    @property
    def name(self) -> str:
        return f"{self.service}-{self.aggregate}"


@dataclass
class Delivery:
    """One message as a consumer sees it, whatever the broker."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


OnDeliveries = Callable[[list[Delivery]], Awaitable[None]]
"""Handles a batch of deliveries; raising means "deliver these again later"."""


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
                url,
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
        self._pull_tasks: list[asyncio.Task[None]] = []
        self._pull_subscriptions: list[Any] = []

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
            declare=True,
        )

    def _queue(self, subscription: Subscription) -> RabbitQueue:
        return RabbitQueue(
            self.queue_name(subscription),
            durable=True,
            routing_key=f"{self.ns}.{subscription.aggregate}.*",
        )

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.kind == "nats":
            self.client.publisher(f"{self.ns}.>", stream=self._stream())  # declares the stream on start
        await self.client.start()
        self.started = True
        if self.kind == "rabbitmq":
            await self.client.declare_exchange(self.exchange)
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
                self._pull_tasks.append(asyncio.create_task(self._pull(pull, on_deliveries)))

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
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.stop(), timeout=STOP_TIMEOUT_SECONDS)

    def _consumer_config(self, subscription: Subscription) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=subscription.name,
            filter_subject=f"{self.ns}.{subscription.aggregate}.>",
            deliver_policy=DeliverPolicy.ALL if subscription.start == "all" else DeliverPolicy.NEW,
            ack_wait=120,
            max_ack_pending=self.batch_size * 2,
        )

    async def _pull(self, pull: Any, on_deliveries: OnDeliveries) -> None:
        """Wait for the next message; then take, without waiting, what else is already there (up to a
        batch), hand the batch over, and acknowledge it — or ask for it again if handling failed."""
        while True:
            try:
                messages = await pull.fetch(batch=1, timeout=5.0)
                if messages[-1].metadata.num_pending > 0:
                    with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                        messages += await pull.fetch(
                            batch=min(self.batch_size - 1, messages[-1].metadata.num_pending), timeout=1.0
                        )
            except (TimeoutError, nats.errors.TimeoutError):
                continue  # idle
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # disconnected: nats-py reconnects; unacked messages come back
                log.warning("pulling from NATS failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            try:
                await on_deliveries([Delivery(m.data, dict(m.headers or {})) for m in messages])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("deliveries not handled; they will come again", extra={"error": repr(exc)})
                for message in messages:
                    with contextlib.suppress(Exception):
                        await message.nak(delay=1.0)
                continue
            for message in messages:
                with contextlib.suppress(Exception):  # lost acks mean redelivery; the inbox absorbs it
                    await message.ack()

    # --- publishing -------------------------------------------------------------------------------
    async def publish(self, event: OutboundEvent) -> None:
        """Publish and wait for the broker's acknowledgement (stored), or raise."""
        headers = {**event.headers, "event-id": event.event_id, "event-type": event.event_type}
        if self.kind == "nats":
            await self.client.publish(
                event.body,
                self.subject(event.aggregate_type, event.event_type),
                headers={**headers, "Nats-Msg-Id": event.event_id},
                stream=self.stream_name,
                timeout=2.0,
            )
        elif self.kind == "rabbitmq":
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
            # Pulled by our own loop on FastStream's connection (see `_pull`), not by a FastStream
            # subscriber: FastStream 0.7's pull loop waits out its whole timeout to fill a batch
            # (latency) and dies on the plain asyncio.TimeoutError nats-py raises when a stream is idle.
            self._pulls.append((subscription, on_deliveries))
        elif self.kind == "rabbitmq":

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
                await on_deliveries([Delivery(message.body, headers)])

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
                await on_deliveries([Delivery(message.body, headers)])

    async def declare(self, subscriptions: list[Subscription]) -> None:
        """Create the stream/exchange and every subscription's durable consumer or queue, so that
        events published before a consumer first runs wait for it (run by `mercato broker setup`,
        which `mercato up` calls, like a migration)."""
        if self.kind == "nats":
            js = self.client.config.connection_state.stream  # nats-py's JetStream context

            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await js.consumer_info(self.stream_name, subscription.name)
                    continue
                await js.add_consumer(self.stream_name, self._consumer_config(subscription))
        elif self.kind == "rabbitmq":
            exchange = await self.client.declare_exchange(self.exchange)
            for subscription in subscriptions:
                queue = await self.client.declare_queue(self._queue(subscription))
                await queue.bind(exchange, routing_key=f"{self.ns}.{subscription.aggregate}.*")
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

    async def __call__(self, event: OutboundEvent) -> None:
        broker = await self._connected()
        try:
            await broker.publish(event)
        except Exception:
            await self.close()  # reconnect next time
            raise

    async def close(self) -> None:
        broker, self.broker = self.broker, None
        if broker is not None:
            await broker.stop()
