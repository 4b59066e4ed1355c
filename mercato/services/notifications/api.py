"""Notifications' HTTP routes: the shopper's devices for push (through the gateway, `/mobile/v1/devices`),
and private routes — the sent log for operators and support (the admin app reads it through the
gateway's admin routes), and a customer's communications for their GDPR export (customers asks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from mercato.platform.app import ReadSession, UnitOfWork
from mercato.platform.auth import CurrentCustomer, SessionCheckedInTransaction
from mercato.services.notifications import devices
from mercato.services.notifications import repository as repo
from mercato.services.notifications.schemas import (
    MAX_TOKEN_LENGTH,
    Communications,
    DeviceIn,
    DeviceOut,
    MessageList,
    MessageOut,
)

mobile = APIRouter(prefix="/mobile/v1/devices", tags=["devices"])
internal = APIRouter(prefix="/internal", tags=["sent log"])

TokenPath = Annotated[str, Path(min_length=1, max_length=MAX_TOKEN_LENGTH)]


@mobile.post(
    "",
    response_model=DeviceOut,
    status_code=201,
    summary="Take push notifications on this phone",
    responses={200: {"description": "Registered already (for this customer): nothing changed but the time"}},
)
async def register_device(
    body: DeviceIn, shopper: SessionCheckedInTransaction, session: UnitOfWork, response: Response
) -> DeviceOut:
    """Register the app's APNs device token or FCM registration token for the signed-in customer. Safe to
    repeat (the app does at every start): the same token again answers 200. A token registered by
    another customer (another account signed in on the same phone) moves to this one."""
    created, device = await devices.register(session, shopper, body)
    response.status_code = 201 if created else 200
    return device


@mobile.delete("/{token}", status_code=204, summary="Stop push notifications on this phone")
async def unregister_device(token: TokenPath, customer_id: CurrentCustomer, session: UnitOfWork) -> Response:
    """Forget the device with this token (sign-out, or push turned off in the app). 204 also when it
    was not registered for this customer."""
    await devices.unregister(session, customer_id, token)
    return Response(status_code=204)


@internal.get("/messages", response_model=MessageList, summary="The sent log, newest first")
async def list_messages(
    session: ReadSession,
    customer_id: str | None = None,
    order_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> MessageList:
    rows = await repo.messages(session, customer_id=customer_id, order_id=order_id, limit=limit)
    return MessageList(data=[MessageOut.model_validate(row, from_attributes=True) for row in rows])


@internal.get(
    "/customers/{customer_id}/communications",
    response_model=Communications,
    summary="A customer's devices and messages, for their GDPR export",
)
async def customer_communications(
    customer_id: Annotated[str, Path(max_length=40)], session: ReadSession
) -> Communications:
    return await devices.communications(session, customer_id)
