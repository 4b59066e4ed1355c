"""Staff use cases: managing staff accounts (admins and the command line) and the audit log.

Every change to a staff account is recorded with `record_staff_action`, in the same transaction, and
reaches the audit log the way every other service's staff actions do: through the outbox, the broker
and this service's consumer. Signing in is in `sign_in.py`.
"""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.emails import normalise_email
from mercato.contracts.events import StaffActionRecorded
from mercato.contracts.staff import ROLES
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import is_id, new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.customers.credentials import password_problems
from mercato.services.customers.models import AuditEntry, StaffMember
from mercato.services.customers.staff import repository as repo
from mercato.services.customers.staff.credentials import StaffRealm, temporary_password
from mercato.services.customers.staff.schemas import (
    AuditEntryOut,
    StaffCreated,
    StaffIn,
    StaffOut,
    StaffPatch,
    TemporaryPasswordOut,
)

SERVICE = "customers"
UNKNOWN_STAFF = "unknown"  # the audit log's staff id for a sign-in attempt with an unknown e-mail


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_actor(member: StaffMember, source_ip: str | None) -> Staff:
    """A staff member as the author of their own sign-in events (before any token exists)."""
    return Staff(id=member.id, roles=frozenset(r for r in member.roles if r in ROLES), source_ip=source_ip)


def command_line_actor() -> Staff:
    """The author of what an operator does with `mercato staff …`: not a staff member, but on record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return Staff(id="cli", roles=frozenset(ROLES), source_ip=f"{user}@{socket.gethostname()} (command line)")


def is_locked(member: StaffMember, now: datetime) -> bool:
    return member.locked_until is not None and utc(member.locked_until) > now


def staff_out(member: StaffMember, *, recovery_codes_left: int, now: datetime | None = None) -> StaffOut:
    now = now or datetime.now(UTC)
    return StaffOut(
        id=member.id,
        email=member.email,
        name=member.name,
        roles=[role for role in ROLES if role in member.roles],
        active=member.active,
        mfa_enrolled=member.totp_secret is not None,
        recovery_codes_remaining=recovery_codes_left,
        password_change_required=member.password_temporary,
        locked_until=utc(member.locked_until) if is_locked(member, now) else None,
        last_login_at=utc(member.last_login_at) if member.last_login_at else None,
        created_at=utc(member.created_at),
        updated_at=utc(member.updated_at),
    )


async def _out(session: AsyncSession, member: StaffMember) -> StaffOut:
    left = await repo.recovery_codes_left(session, [member.id])
    return staff_out(member, recovery_codes_left=left.get(member.id, 0))


async def _member(session: AsyncSession, staff_id: str) -> StaffMember:
    member = await repo.staff_by_id(session, staff_id, lock=True) if is_id(staff_id, "stf") else None
    if member is None:
        raise NotFound("No staff member with this id.")
    return member


async def find_member(session: AsyncSession, email_or_id: str) -> StaffMember | None:
    """For the command line: a staff member by id or e-mail."""
    if is_id(email_or_id, "stf"):
        return await repo.staff_by_id(session, email_or_id)
    return await repo.staff_by_email(session, normalise_email(email_or_id))


# --- accounts ----------------------------------------------------------------------------------------


async def create_staff(
    session: AsyncSession, realm: StaffRealm, data: StaffIn, *, actor: Staff
) -> StaffCreated:
    """A new staff member with a temporary password (given, or generated and returned once): they
    replace it and enrol TOTP at their first sign-in."""
    email = data.email  # already normalised (EmailAddress)
    generated = data.password is None
    password = temporary_password() if data.password is None else data.password
    if not generated and (problem := password_problems(password, email=email)):
        raise UnprocessableEntity(f"The password {problem}.", errors={"password": problem})
    now = datetime.now(UTC)
    member = StaffMember(
        id=new_id("stf"),
        email=email,
        name=data.name,
        password_hash=await realm.passwords.hash(password),
        password_temporary=True,
        password_set_at=now,
        roles=[role for role in ROLES if role in data.roles],
        active=True,
        failed_attempts=0,
        created_at=now,
        updated_at=now,
    )
    try:
        await repo.add_staff(session, member)
    except repo.EmailTaken:
        raise Conflict(
            "A staff member with this e-mail address already exists.", errors={"email": "is already staff"}
        ) from None
    await record_staff_action(
        session,
        actor,
        "staff.create",
        service=SERVICE,
        target_type="staff",
        target_id=member.id,
        details={
            "email": email,
            "roles": ",".join(member.roles),
            "password": "generated" if generated else "set",
        },
    )
    out = staff_out(member, recovery_codes_left=0, now=now)
    return StaffCreated(**out.model_dump(), temporary_password=password if generated else None)


async def list_staff(session: AsyncSession, *, after: str | None, limit: int) -> list[StaffOut]:
    members = await repo.list_staff(session, after=after, limit=limit)
    left = await repo.recovery_codes_left(session, [m.id for m in members])
    now = datetime.now(UTC)
    return [staff_out(m, recovery_codes_left=left.get(m.id, 0), now=now) for m in members]


async def get_staff(session: AsyncSession, staff_id: str) -> StaffOut:
    member = await repo.staff_by_id(session, staff_id) if is_id(staff_id, "stf") else None
    if member is None:
        raise NotFound("No staff member with this id.")
    return await _out(session, member)


async def update_staff(session: AsyncSession, staff_id: str, patch: StaffPatch, *, actor: Staff) -> StaffOut:
    """Name, roles, active. Nobody can take away their own admin role or disable themselves, so the
    staff realm always keeps an admin who can undo a mistake."""
    member = await _member(session, staff_id)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if member.id == actor.id:
        if "roles" in changes and "admin" not in changes["roles"]:
            raise Conflict("You cannot remove your own admin role; ask another admin.")
        if changes.get("active") is False:
            raise Conflict("You cannot disable your own account; ask another admin.")
    now = datetime.now(UTC)
    details: dict[str, str | int | float | bool | None] = {}
    if "name" in changes and changes["name"] != member.name:
        member.name = changes["name"]
        details["name"] = changes["name"]
    if "roles" in changes:
        roles = [role for role in ROLES if role in changes["roles"]]
        if roles != [role for role in ROLES if role in member.roles]:
            details |= {"roles": ",".join(roles), "previous_roles": ",".join(member.roles)}
            member.roles = roles
    if "active" in changes and changes["active"] != member.active:
        member.active = changes["active"]
        details["active"] = member.active
        if not member.active:
            await repo.revoke_all_for(session, member.id, now)  # a disabled account's sessions end now
    if details:
        member.updated_at = now
        await session.flush()
        await record_staff_action(
            session,
            actor,
            "staff.update",
            service=SERVICE,
            target_type="staff",
            target_id=member.id,
            details=details,
        )
    return await _out(session, member)


async def unlock(session: AsyncSession, staff_id: str, *, actor: Staff) -> StaffOut:
    member = await _member(session, staff_id)
    was_locked = is_locked(member, datetime.now(UTC))
    member.locked_until = None
    member.failed_attempts = 0
    member.updated_at = datetime.now(UTC)
    await session.flush()
    await record_staff_action(
        session,
        actor,
        "staff.unlock",
        service=SERVICE,
        target_type="staff",
        target_id=member.id,
        details={"was_locked": was_locked},
    )
    return await _out(session, member)


async def reset_mfa(session: AsyncSession, staff_id: str, *, actor: Staff) -> StaffOut:
    """For a lost phone: the TOTP secret and recovery codes are gone, every session ends, and the next
    sign-in enrols a new authenticator."""
    member = await _member(session, staff_id)
    now = datetime.now(UTC)
    member.totp_secret = None
    member.totp_enrolled_at = None
    member.totp_last_step = None
    member.updated_at = now
    await repo.delete_recovery_codes(session, member.id)
    await repo.revoke_all_for(session, member.id, now)
    await session.flush()
    await record_staff_action(
        session, actor, "staff.reset_mfa", service=SERVICE, target_type="staff", target_id=member.id
    )
    return await _out(session, member)


async def reset_password(
    session: AsyncSession, realm: StaffRealm, staff_id: str, *, actor: Staff
) -> TemporaryPasswordOut:
    """For a forgotten password: a new temporary one, shown once; every session ends."""
    member = await _member(session, staff_id)
    now = datetime.now(UTC)
    password = temporary_password()
    member.password_hash = await realm.passwords.hash(password)
    member.password_temporary = True
    member.password_set_at = member.updated_at = now
    await repo.revoke_all_for(session, member.id, now)
    await session.flush()
    await record_staff_action(
        session, actor, "staff.reset_password", service=SERVICE, target_type="staff", target_id=member.id
    )
    return TemporaryPasswordOut(
        staff_id=member.id,
        temporary_password=password,
        expires_at=now + timedelta(hours=realm.settings.staff_temporary_password_hours),
    )


async def ensure_initial_admin(session: AsyncSession, realm: StaffRealm) -> tuple[str, str] | None:
    """Development only (`mercato up`): with no staff at all, an admin to sign in with. Returns its
    (e-mail, one-time password), or None when there already is staff."""
    if await repo.any_staff(session):
        return None
    created = await create_staff(
        session,
        realm,
        StaffIn(email=realm.settings.staff_initial_admin_email, name="Administrator", roles=["admin"]),
        actor=command_line_actor(),
    )
    assert created.temporary_password is not None
    return created.email, created.temporary_password


# --- the audit log -----------------------------------------------------------------------------------


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


async def record_audit_entry(session: AsyncSession, event: StaffActionRecorded, *, event_id: str) -> None:
    """One consumed `StaffActionRecorded`, from any service, into the log (exactly once: the kernel's
    inbox). Over-long fields are clipped rather than refused: the trail must not lose an entry."""
    await repo.add_audit_entry(
        session,
        AuditEntry(
            id=event_id,
            occurred_at=utc(event.occurred_at),
            staff_id=event.staff_id[:64],
            action=event.action[:100],
            service=event.service[:50],
            target_type=_clip(event.target_type, 50),
            target_id=_clip(event.target_id, 200),
            source_ip=_clip(event.source_ip, 200),
            details=event.details,
            recorded_at=datetime.now(UTC),
        ),
    )


async def audit_log(
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
) -> list[AuditEntryOut]:
    rows = await repo.audit_entries(
        session,
        staff_id=staff_id,
        action=action,
        service=service,
        target_type=target_type,
        target_id=target_id,
        since=utc(since) if since else None,
        until=utc(until) if until else None,
        before=(utc(before[0]), before[1]) if before else None,
        limit=limit,
    )
    return [
        AuditEntryOut(
            id=row.id,
            occurred_at=utc(row.occurred_at),
            staff_id=row.staff_id,
            action=row.action,
            service=row.service,
            target_type=row.target_type,
            target_id=row.target_id,
            source_ip=row.source_ip,
            details=row.details or {},
            recorded_at=utc(row.recorded_at),
        )
        for row in rows
    ]
