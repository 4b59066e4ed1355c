from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class MessageOut(BaseModel):
    id: str
    kind: str
    channel: str
    customer_id: str
    order_id: str | None
    to_address: str
    subject: str | None
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    event_id: str
    event_occurred_at: datetime
    created_at: datetime
    sent_at: datetime | None


class MessageList(BaseModel):
    data: list[MessageOut]
