"""The one service customers calls: notifications, over its internal API, for what it holds about a
customer (their devices for push and the messages written to them) — the part of a GDPR export that
customers does not own. The answer is parsed into typed models, which the export then carries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from mercato.platform.clients import ServiceClient


class Device(BaseModel):
    """A phone the customer takes push notifications on."""

    platform: Literal["ios", "android"]
    token: str
    created_at: datetime
    updated_at: datetime


class SentMessage(BaseModel):
    """A message written to the customer: e-mail, SMS or push (to a device: its platform and token)."""

    id: str
    kind: str
    channel: str
    platform: str | None
    order_id: str | None
    to_address: str
    subject: str | None
    status: str
    created_at: datetime
    sent_at: datetime | None


class Communications(BaseModel):
    """What notifications holds about a customer."""

    devices: list[Device]
    messages: list[SentMessage]


class Notifications:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("notifications", base_url, timeout=timeout)

    async def communications(self, customer_id: str) -> Communications:
        """Raises `ServiceUnavailable` (a 503 problem) when notifications can't answer: an export
        without this part would be incomplete, and a retry later is the honest answer."""
        body = await self.client.request("GET", f"/internal/customers/{customer_id}/communications")
        return Communications.model_validate(body)
