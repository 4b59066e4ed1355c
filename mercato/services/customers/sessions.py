"""Ending every session of a customer at once: on erasure, password change or reset, and "sign out
everywhere". Refresh tokens are revoked here; access tokens (15 minutes, verified by the gateway alone)
are refused by every service that accepts them, from the "sessions valid after" second recorded here
and published as `CustomerSessionsRevoked` (see `mercato.platform.sessions` and docs/security.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CustomerSessionsRevoked
from mercato.platform.outbox import record_event
from mercato.platform.sessions import end_sessions
from mercato.services.customers import repository as repo

RevocationReason = str  # one of CustomerSessionsRevoked.reason's values


async def end_all_sessions(
    session: AsyncSession, customer_id: str, reason: RevocationReason, now: datetime
) -> None:
    """In the caller's transaction: refresh tokens revoked, this service refuses older access tokens at
    once, and the others do when the event reaches them (CurrentCustomer, in each)."""
    await repo.revoke_all_for(session, customer_id, now)
    valid_after = await end_sessions(session, customer_id, now)
    await record_event(
        session,
        CustomerSessionsRevoked(
            customer_id=customer_id,
            reason=reason,  # type: ignore[arg-type]
            revoked_at=now,
            valid_after=valid_after,
        ),
        aggregate_id=customer_id,
    )
