"""Resetting a forgotten password by e-mail.

`POST /auth/password-reset {email}` answers 202 at once, whatever the address: the lookup and the
e-mail happen afterwards (`request_reset`, run after the response), so neither the answer nor its
timing says whether an account exists. For an active account a link is made: a 256-bit token, of which
only the SHA-256 is stored, valid for `password_reset_ttl_minutes` and once. `PasswordResetRequested`
asks notifications to e-mail it. `POST /auth/password-reset/confirm {token, new_password}` sets the
password, spends the token (and every other outstanding one of the account) and ends every session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.emails import normalise_email
from mercato.contracts.events import PasswordResetRequested
from mercato.platform.db import Database
from mercato.platform.errors import BadRequest
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.services.customers import repository as repo
from mercato.services.customers.credentials import Passwords
from mercato.services.customers.models import Customer, PasswordReset
from mercato.services.customers.security import check_new_password
from mercato.services.customers.sessions import end_all_sessions

log = logging.getLogger("mercato.customers")
INVALID_LINK = (
    "This password reset link is not valid any more (used, expired or mistyped); ask for a new one."
)


def reset_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_reset(db: Database, email: str, *, ttl_minutes: int) -> None:
    """After the 202: make and send a link if `email` is an active account's, else do nothing."""
    try:
        async with db.unit_of_work() as session:
            customer = await repo.customer_by_email(session, normalise_email(email))
            if customer is None:
                return
            await _issue(session, customer, ttl_minutes=ttl_minutes)
    except Exception:  # after the response: nobody to answer, so say it in the log
        log.exception("password reset request failed")


async def _issue(session: AsyncSession, customer: Customer, *, ttl_minutes: int) -> None:
    token = "prt_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    reset = PasswordReset(
        id=new_id("prs"),
        token_hash=reset_token_hash(token),
        customer_id=customer.id,
        created_at=now,
        expires_at=now + timedelta(minutes=ttl_minutes),
    )
    session.add(reset)
    await session.flush()
    await record_event(
        session,
        PasswordResetRequested(
            customer_id=customer.id,
            email=customer.email,
            name=customer.name,
            language=customer.language,
            token=token,
            expires_at=reset.expires_at,
        ),
        aggregate_id=customer.id,
    )


async def confirm_reset(session: AsyncSession, passwords: Passwords, token: str, new_password: str) -> None:
    now = datetime.now(UTC)
    reset = await session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == reset_token_hash(token))
    )
    customer = await repo.customer(session, reset.customer_id, lock=True) if reset else None
    if (
        reset is None
        or customer is None
        or customer.status != "active"
        or reset.used_at is not None
        or reset.expires_at <= now
    ):
        raise BadRequest(INVALID_LINK, errors={"token": "is not valid any more"})
    check_new_password(new_password, email=customer.email)
    # Spend it: the conditional update makes a concurrent second use find nothing to spend.
    spent = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise BadRequest(INVALID_LINK, errors={"token": "is not valid any more"})
    await session.execute(  # any other link of the account dies with it
        update(PasswordReset)
        .where(PasswordReset.customer_id == customer.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    customer.password_hash = await passwords.hash(new_password)
    customer.updated_at = now
    await end_all_sessions(session, customer.id, "password_reset", now)
