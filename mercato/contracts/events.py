"""Events: small, immutable, past-tense facts that services publish for anyone to consume.

On the wire every event is an envelope — `event_id` (UUID), `type`, `version`, `occurred_at`,
`traceparent` (W3C trace context) — around a payload, the event model's fields. New fields may be
added to a payload within a version; removing or changing one needs a new version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from mercato.contracts.money import Money


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: ClassVar[str]
    version: ClassVar[int] = 1

    def envelope(
        self, *, traceparent: str | None = None, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "type": self.type,
            "version": self.version,
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
            "traceparent": traceparent,
            "payload": self.model_dump(mode="json"),
        }


class OrderLineSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Money


class OrderPlaced(Event):
    type: ClassVar[str] = "OrderPlaced"

    order_id: str
    customer_id: str
    total: Money
    lines: tuple[OrderLineSnapshot, ...]
    placed_at: datetime


class OrderStatusChanged(Event):
    type: ClassVar[str] = "OrderStatusChanged"

    order_id: str
    customer_id: str
    from_state: str
    to_state: str
    reason: str | None = None
    changed_at: datetime
