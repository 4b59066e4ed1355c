"""The shopper's own account security: signing out everywhere and changing the password. Both end
every session of the account, this one included; the client signs in again (with the new password)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import Forbidden, Unauthorized, UnprocessableEntity
from mercato.services.customers import repository as repo
from mercato.services.customers.credentials import Passwords, password_problems
from mercato.services.customers.models import Customer
from mercato.services.customers.sessions import end_all_sessions


async def _active(session: AsyncSession, customer_id: str) -> Customer:
    customer = await repo.customer(session, customer_id, lock=True)
    if customer is None or customer.status != "active":
        raise Unauthorized("This account no longer exists.")
    return customer


async def sign_out_everywhere(session: AsyncSession, customer_id: str) -> None:
    await _active(session, customer_id)
    await end_all_sessions(session, customer_id, "signed_out_everywhere", datetime.now(UTC))


def check_new_password(password: str, *, email: str) -> None:
    if problem := password_problems(password, email=email):
        raise UnprocessableEntity(f"The new password {problem}.", errors={"new_password": problem})


async def change_password(
    session: AsyncSession, passwords: Passwords, customer_id: str, current: str, new: str
) -> None:
    customer = await _active(session, customer_id)
    if not await passwords.verify(customer.password_hash, current):
        raise Forbidden("The current password is not correct.", errors={"current_password": "is not correct"})
    check_new_password(new, email=customer.email)
    now = datetime.now(UTC)
    customer.password_hash = await passwords.hash(new)
    customer.updated_at = now
    await end_all_sessions(session, customer.id, "password_changed", now)
