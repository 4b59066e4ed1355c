"""Ended sessions: the shopper access tokens a service must refuse although the gateway verified them.

An access token is a signed statement that lives 15 minutes; the gateway checks its signature and
expiry, nothing else. When a customer's sessions end early — the account was erased, the password
changed or reset, or they signed out everywhere — customers records a "sessions valid after" instant
for that customer and publishes `CustomerSessionsRevoked`. Every service that accepts shopper tokens
keeps its own copy of that instant in this small table (customers writes it in the revoking
transaction, the others from the event) and refuses a token issued before it: `CurrentCustomer`
(`mercato.platform.auth`) compares the token's `iat`, which the gateway forwards, with it.

Times are whole seconds, as `iat` is. An instant T becomes `valid_after = floor(T) + 1`, so every token
issued up to T (its `iat` is at most floor(T)) is refused; customers issues later tokens with
`iat = max(now, valid_after)`, so a token issued in the same second right after the revocation (say,
the fresh sign-in that follows a password change) is not caught by it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, case, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge

# Its own metadata: only services that accept shopper tokens (customers, orders) migrate this table.
sessions_metadata = MetaData()

session_revocations = Table(
    "session_revocations",
    sessions_metadata,
    Column("customer_id", String(40), primary_key=True),
    # Unix seconds: a token whose `iat` is earlier is refused.
    Column("valid_after", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def valid_after(revoked_at: datetime) -> int:
    """The first whole second whose tokens are still good, for sessions ended at `revoked_at`."""
    return math.floor(revoked_at.timestamp()) + 1


async def end_sessions(session: AsyncSession, customer_id: str, revoked_at: datetime) -> int:
    """Refuse from now on every token of `customer_id` issued up to `revoked_at`. Idempotent and order-
    insensitive: a late or replayed revocation never moves the instant back."""
    after = valid_after(revoked_at)
    statement = insert_or_merge(session, session_revocations).values(
        customer_id=customer_id, valid_after=after, updated_at=datetime.now(UTC)
    )
    current = session_revocations.c.valid_after
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={
                "valid_after": case(
                    (statement.excluded.valid_after > current, statement.excluded.valid_after),
                    else_=current,
                ),
                "updated_at": statement.excluded.updated_at,
            },
        )
    )
    return after


async def sessions_valid_after(session: AsyncSession, customer_id: str) -> int | None:
    return await session.scalar(
        select(session_revocations.c.valid_after).where(session_revocations.c.customer_id == customer_id)
    )


async def is_ended(session: AsyncSession, customer_id: str, issued_at: int | None) -> bool:
    """Whether a token of `customer_id` issued at `issued_at` (Unix seconds) was revoked. A request
    without an issue time (only the gateway sets it) counts as infinitely old."""
    after = await sessions_valid_after(session, customer_id)
    return after is not None and (issued_at is None or issued_at < after)


async def hold_customer(session: AsyncSession, customer_id: str) -> None:
    """Serialise this transaction with any other that holds the same customer, until it ends: a write
    that must not slip past a concurrent revocation (an order written while the erasure is handled).
    SQLite writers are serial already (`BEGIN IMMEDIATE`); PostgreSQL takes an advisory lock."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"customer-sessions:{customer_id}"},
        )
