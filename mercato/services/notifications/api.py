"""Notifications has no API toward other services; this private route shows its sent log to operators
and support (the admin app reads it through the gateway's admin routes)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from mercato.platform.app import ReadSession
from mercato.services.notifications import repository as repo
from mercato.services.notifications.schemas import MessageList, MessageOut

internal = APIRouter(prefix="/internal", tags=["sent log"])


@internal.get("/messages", response_model=MessageList, summary="The sent log, newest first")
async def list_messages(
    session: ReadSession,
    customer_id: str | None = None,
    order_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> MessageList:
    rows = await repo.messages(session, customer_id=customer_id, order_id=order_id, limit=limit)
    return MessageList(data=[MessageOut.model_validate(row, from_attributes=True) for row in rows])
