"""Every query of the staff realm and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.customers.models import (
    AuditEntry,
    StaffChallenge,
    StaffMember,
    StaffRecoveryCode,
    StaffRefreshToken,
)


class EmailTaken(Exception):
    pass


# --- staff members -----------------------------------------------------------------------------------


async def add_staff(session: AsyncSession, member: StaffMember) -> None:
    session.add(member)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise EmailTaken from None


async def staff_by_email(session: AsyncSession, email: str, *, lock: bool = False) -> StaffMember | None:
    query = select(StaffMember).where(StaffMember.email == email)
    return await session.scalar(_locked(query) if lock else query)


async def staff_by_id(session: AsyncSession, staff_id: str, *, lock: bool = False) -> StaffMember | None:
    query = select(StaffMember).where(StaffMember.id == staff_id)
    return await session.scalar(_locked(query) if lock else query)


def _locked(query: Select[tuple[StaffMember]]) -> Select[tuple[StaffMember]]:
    """Locked until commit on PostgreSQL (SQLite's single writer serialises anyway), and read afresh:
    two concurrent wrong codes must both count towards the lockout, and a spent TOTP step is seen."""
    return query.with_for_update().execution_options(populate_existing=True)


async def list_staff(session: AsyncSession, *, after: str | None, limit: int) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.id).limit(limit)
    if after:
        query = query.where(StaffMember.id > after)
    return list(await session.scalars(query))


async def any_staff(session: AsyncSession) -> bool:
    return (await session.scalar(select(func.count()).select_from(StaffMember))) > 0


# --- recovery codes ----------------------------------------------------------------------------------


async def replace_recovery_codes(
    session: AsyncSession, staff_id: str, codes: list[StaffRecoveryCode]
) -> None:
    await delete_recovery_codes(session, staff_id)
    session.add_all(codes)
    await session.flush()


async def delete_recovery_codes(session: AsyncSession, staff_id: str) -> None:
    await session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff_id))


async def use_recovery_code(session: AsyncSession, staff_id: str, code_hash: str, now: datetime) -> bool:
    """Atomically spend one unused code: a code works once, even when sent twice at the same moment."""
    result = await session.execute(
        update(StaffRecoveryCode)
        .where(
            StaffRecoveryCode.staff_id == staff_id,
            StaffRecoveryCode.code_hash == code_hash,
            StaffRecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return result.rowcount >= 1


async def recovery_codes_left(session: AsyncSession, staff_ids: list[str]) -> dict[str, int]:
    rows = await session.execute(
        select(StaffRecoveryCode.staff_id, func.count())
        .where(StaffRecoveryCode.staff_id.in_(staff_ids), StaffRecoveryCode.used_at.is_(None))
        .group_by(StaffRecoveryCode.staff_id)
    )
    return {staff_id: count for staff_id, count in rows}


# --- challenges --------------------------------------------------------------------------------------


async def add_challenge(session: AsyncSession, challenge: StaffChallenge) -> None:
    session.add(challenge)
    await session.flush()


async def challenge_by_hash(session: AsyncSession, token_hash: str) -> StaffChallenge | None:
    return await session.scalar(select(StaffChallenge).where(StaffChallenge.token_hash == token_hash))


async def spend_challenge(session: AsyncSession, challenge_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(StaffChallenge)
        .where(StaffChallenge.id == challenge_id, StaffChallenge.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


async def purge_challenges(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(StaffChallenge).where(StaffChallenge.expires_at < before))
    return result.rowcount or 0


# --- refresh tokens ----------------------------------------------------------------------------------


async def add_refresh_token(session: AsyncSession, token: StaffRefreshToken) -> None:
    session.add(token)
    await session.flush()


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> StaffRefreshToken | None:
    return await session.scalar(select(StaffRefreshToken).where(StaffRefreshToken.token_hash == token_hash))


async def mark_refresh_token_used(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Atomically: only one of two concurrent refreshes with the same token wins."""
    result = await session.execute(
        update(StaffRefreshToken)
        .where(
            StaffRefreshToken.id == token_id,
            StaffRefreshToken.used_at.is_(None),
            StaffRefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(StaffRefreshToken)
        .where(StaffRefreshToken.family_id == family_id, StaffRefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all_for(session: AsyncSession, staff_id: str, now: datetime) -> None:
    await session.execute(
        update(StaffRefreshToken)
        .where(StaffRefreshToken.staff_id == staff_id, StaffRefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- audit log ---------------------------------------------------------------------------------------


async def add_audit_entry(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def audit_entries(
    session: AsyncSession,
    *,
    staff_id: str | None,
    action: str | None,
    service: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first; `before` is the keyset position (occurred_at, id) of the previous page's last row.
    An `action` ending in `.*` matches every action with that prefix (`auth.*`)."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(limit)
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    if action is not None:
        if action.endswith(".*"):
            query = query.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if service is not None:
        query = query.where(AuditEntry.service == service)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(AuditEntry.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEntry.occurred_at < until)
    if before is not None:
        at, entry_id = before
        query = query.where(
            or_(AuditEntry.occurred_at < at, and_(AuditEntry.occurred_at == at, AuditEntry.id < entry_id))
        )
    return list(await session.scalars(query))
