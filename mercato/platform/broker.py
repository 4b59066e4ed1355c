"""The event broker, through FastStream: NATS JetStream by default (embedded, from pip).

Every event lands in one durable stream, `MERCATO`, on the subject `mercato.<aggregate>.<EventType>`.
The stream deduplicates on `Nats-Msg-Id` (the event id) for an hour, so a relay that publishes a row
again after a crash does not create a second message.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from faststream.nats import JStream, NatsBroker
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.topology import Topology

STREAM_NAME = "MERCATO"


def stream() -> JStream:
    """A fresh declaration per broker: FastStream remembers on the object that it declared it."""
    return JStream(
        STREAM_NAME, subjects=["mercato.>"], duplicate_window=timedelta(hours=1).total_seconds(), declare=True
    )


class BrokerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_BROKER_", extra="ignore")

    url: str = ""  # default: the embedded NATS of the local topology
    enabled: bool = True

    def resolved_url(self) -> str:
        return self.url or Topology.from_env().broker_url


def subject(aggregate_type: str, event_type: str) -> str:
    return f"mercato.{aggregate_type}.{event_type}"


def nats_broker(settings: BrokerSettings) -> NatsBroker:
    # Fail fast instead of reconnecting forever inside one publish: the relay retries on its own.
    return NatsBroker(settings.resolved_url(), max_reconnect_attempts=1, connect_timeout=1.0)


class BrokerPublisher:
    """Publishes to the stream, connecting on first use and again after the broker went away, so a
    service starts and serves while the broker is down; the relay simply retries."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker | None = None

    async def _connected(self) -> NatsBroker:
        if self.broker is None:
            broker = nats_broker(self.settings)
            broker.publisher("mercato.>", stream=stream())  # declares the stream on start
            await broker.start()
            self.broker = broker
        return self.broker

    async def __call__(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        broker = await self._connected()
        try:
            await broker.publish(body, subject, headers=headers, stream=STREAM_NAME, timeout=2.0)
        except Exception:
            await self.close()  # reconnect next time
            raise

    async def close(self) -> None:
        broker, self.broker = self.broker, None
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.stop()
