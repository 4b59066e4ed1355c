"""Every query the customers service makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.customers.models import (
    Address,
    Customer,
    RefreshToken,
    SignInFailure,
    email_index,
    name_index,
)


class EmailTaken(Exception):
    pass


async def add_customer(session: AsyncSession, customer: Customer) -> None:
    session.add(customer)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise EmailTaken from None


async def customer_by_email(session: AsyncSession, email: str) -> Customer | None:
    """Through the e-mail's blind index: the address itself is stored encrypted."""
    return await session.scalar(
        select(Customer).where(
            Customer.email_index == email_index(session, email), Customer.status == "active"
        )
    )


async def set_password_hash(session: AsyncSession, customer_id: str, password_hash: str) -> None:
    await session.execute(
        update(Customer).where(Customer.id == customer_id).values(password_hash=password_hash)
    )


async def active_customer(session: AsyncSession, customer_id: str) -> Customer | None:
    return await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.status == "active")
    )


async def customer(session: AsyncSession, customer_id: str, *, lock: bool = False) -> Customer | None:
    """Active or erased."""
    query = select(Customer).where(Customer.id == customer_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def find_customers(
    session: AsyncSession, *, q: str | None, before: str | None, limit: int
) -> list[Customer]:
    """Newest first; `q` is an exact id, e-mail address or full name (case and spacing aside). E-mail
    and name are stored encrypted and found through their blind indexes: no search by a part of them."""
    query = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if q:
        query = query.where(
            or_(
                Customer.id == q,
                Customer.email_index == email_index(session, q),
                Customer.name_index == name_index(session, q),
            )
        )
    if before:
        query = query.where(Customer.id < before)
    return list(await session.scalars(query))


async def customers_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Customer]:
    return list(await session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)))


async def addresses(
    session: AsyncSession, customer_id: str, *, after: str | None, limit: int
) -> list[Address]:
    query = select(Address).where(Address.customer_id == customer_id).order_by(Address.id).limit(limit)
    if after:
        query = query.where(Address.id > after)
    return list(await session.scalars(query))


async def add_address(session: AsyncSession, address: Address) -> None:
    if address.is_default:
        await session.execute(
            update(Address).where(Address.customer_id == address.customer_id).values(is_default=False)
        )
    session.add(address)
    await session.flush()


async def delete_address(session: AsyncSession, customer_id: str, address_id: str) -> bool:
    result = await session.execute(
        delete(Address).where(Address.id == address_id, Address.customer_id == customer_id)
    )
    return result.rowcount == 1


async def delete_all_addresses(session: AsyncSession, customer_id: str) -> None:
    await session.execute(delete(Address).where(Address.customer_id == customer_id))


async def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)
    await session.flush()


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def mark_refresh_token_used(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Atomically: only one of two concurrent refreshes with the same token wins."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


async def refresh_token_used_at(session: AsyncSession, token_id: str) -> datetime | None:
    """When the token was spent, as committed (not a copy loaded before a concurrent refresh spent it)."""
    result = await session.execute(
        select(RefreshToken.used_at).where(RefreshToken.id == token_id, RefreshToken.revoked_at.is_(None))
    )
    return result.scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all_for(session: AsyncSession, customer_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.customer_id == customer_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def sessions_of(session: AsyncSession, customer_id: str) -> list[RefreshToken]:
    return list(
        await session.scalars(
            select(RefreshToken).where(RefreshToken.customer_id == customer_id).order_by(RefreshToken.id)
        )
    )


# --- the per-account sign-in limit ---------------------------------------------------------------


def account_key(session: AsyncSession, email: str) -> str:
    """The key failures are counted under: the e-mail's blind index (no address in clear)."""
    return email_index(session, email)


async def recent_failures(session: AsyncSession, key: str, since: datetime) -> list[datetime]:
    """When this account's sign-in failed since `since`, oldest first."""
    query = (
        select(SignInFailure.failed_at)
        .where(SignInFailure.account_key == key, SignInFailure.failed_at > since)
        .order_by(SignInFailure.failed_at)
    )
    return list(await session.scalars(query))


async def add_failure(session: AsyncSession, key: str, now: datetime) -> None:
    session.add(SignInFailure(account_key=key, failed_at=now))
    await session.flush()


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.account_key == key))


async def purge_failures(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= before))
