"""The phones a customer takes push notifications on: registered and removed by the app through the
gateway (`/mobile/v1/devices`), removed by the dispatcher when a provider says a token is dead, and
erased with the customer.

A registration is written holding the customer (`hold_customer`) after checking, in the same
transaction, that the session is alive and the customer not erased: so it is either written before
the erasure is handled — and erased by it — or refused. No device outlives its customer's erasure.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.auth import SESSION_ENDED, Shopper
from mercato.platform.errors import Unauthorized
from mercato.platform.sessions import hold_customer, is_ended
from mercato.services.notifications import repository as repo
from mercato.services.notifications.schemas import (
    Communications,
    DeviceIn,
    DeviceOut,
    DeviceRecord,
    MessageOut,
    OptInsOut,
)

EXPORTED_MESSAGES = 10_000  # a customer's whole history, in practice


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _check_alive(session: AsyncSession, shopper: Shopper) -> None:
    await hold_customer(session, shopper.id)
    if await is_ended(session, shopper.id, shopper.issued_at):
        raise Unauthorized(SESSION_ENDED)
    recipient = (await repo.recipients(session, {shopper.id})).get(shopper.id)
    if recipient is not None and recipient.erased:
        raise Unauthorized(SESSION_ENDED)


async def register(session: AsyncSession, shopper: Shopper, device: DeviceIn) -> tuple[bool, DeviceOut]:
    """Register `device` for the shopper; returns (created, device). The same token again is an
    update (created False); a token another customer had moves to this one (created True), and that
    customer's pushes still waiting for it are cancelled."""
    await _check_alive(session, shopper)
    key, now = token_hash(device.token), datetime.now(UTC)
    existing = await repo.device(session, key)
    if existing is not None and existing.customer_id == shopper.id:
        await repo.touch_device(session, key, {"platform": device.platform, "updated_at": now})
        return False, DeviceOut(platform=device.platform, token=device.token, created_at=existing.created_at)
    if existing is not None:  # another customer's phone until now: none of their news goes to it any more
        await repo.cancel_pushes(
            session, existing.customer_id, key, "the device was signed in to another account"
        )
    await repo.save_device(
        session,
        {
            "token_hash": key,
            "customer_id": shopper.id,
            "platform": device.platform,
            "token": device.token,
            "created_at": now,
            "updated_at": now,
        },
    )
    return True, DeviceOut(platform=device.platform, token=device.token, created_at=now)


async def unregister(session: AsyncSession, customer_id: str, token: str) -> None:
    """Remove the shopper's device with `token` (a no-op if it is gone or not theirs), and cancel their
    pushes still waiting for it."""
    for variant in {token, token.lower()}:  # APNs tokens are kept in lower case
        if await repo.delete_device(session, token_hash(variant), customer_id):
            await repo.cancel_pushes(session, customer_id, token_hash(variant), "the device was unregistered")


async def communications(session: AsyncSession, customer_id: str) -> Communications:
    devices = (await repo.devices_of(session, {customer_id})).get(customer_id, [])
    messages = await repo.messages(session, customer_id=customer_id, order_id=None, limit=EXPORTED_MESSAGES)
    recipient = (await repo.recipients(session, {customer_id})).get(customer_id)
    opt_ins = None
    if recipient is not None and not recipient.erased:
        opt_ins = OptInsOut(
            email=recipient.opt_in_email, sms=recipient.opt_in_sms, push=recipient.opt_in_push
        )
    return Communications(
        customer_id=customer_id,
        opt_ins=opt_ins,
        devices=[DeviceRecord.model_validate(d, from_attributes=True) for d in devices],
        messages=[MessageOut.model_validate(m, from_attributes=True) for m in messages],
    )
