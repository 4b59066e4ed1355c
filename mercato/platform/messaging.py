"""What travels between the kernel and a broker, whatever the broker (see `broker.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class OutboundEvent:
    """One outbox row on its way to the broker."""

    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    body: bytes
    headers: dict[str, str]


class PublishStopped(Exception):
    """Publishing a batch stopped at its `published`th event (every one before it was acknowledged)."""

    def __init__(self, published: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.published = published
        self.error = error


@dataclass(frozen=True)
class Subscription:
    """A service's durable subscription to the events of one aggregate."""

    service: str
    aggregate: str
    event_types: tuple[str, ...]
    start: Literal["new", "all"] = "new"  # where a brand-new subscription begins
    linger_seconds: float = 0.0  # see `Handlers.linger_seconds`

    @property
    def name(self) -> str:
        return f"{self.service}-{self.aggregate}"


@dataclass
class Delivery:
    """One message as a consumer sees it, whatever the broker."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    attempt: int = 1  # the how-manieth delivery of this message this is
    retry_after: float | None = None  # set by the consumer: deliver it again after so many seconds


OnDeliveries = Callable[[list[Delivery]], Awaitable[None]]
"""Handles a batch of deliveries. Those it set `retry_after` on come again after that delay, the others
are acknowledged; raising means "deliver them all again later"."""
