"""Staff sign-in: password, then a second factor (TOTP, or a one-time recovery code), then tokens.

    POST /admin/v1/auth/login   {email, password}          → a challenge (and, the first time, a
                                                             TOTP secret to enrol)
    POST /admin/v1/auth/enrol   {challenge, code}          → recovery codes and tokens
    POST /admin/v1/auth/verify  {challenge, code | recovery_code} → tokens

Failures of either step count towards one lockout: `staff_lockout_threshold` in a row lock the account
for `staff_lockout_seconds`, during which even the right password and code are refused. Only a whole
sign-in resets the count — a right password alone must not, or someone who has it could guess codes
forever. Every success, failure, lockout, enrolment and recovery-code use goes on the audit trail.

A refusal that must still be recorded (the count, the lock, the audit entry) is raised with
`keep_changes=True`: the unit of work commits it and still answers with the problem.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.emails import normalise_email
from mercato.platform.errors import Conflict, Forbidden, Problem, Unauthorized, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.customers.credentials import password_problems
from mercato.services.customers.models import (
    StaffChallenge,
    StaffMember,
    StaffRecoveryCode,
    StaffRefreshToken,
)
from mercato.services.customers.staff import repository as repo
from mercato.services.customers.staff.credentials import (
    StaffRealm,
    matching_step,
    new_challenge,
    new_recovery_codes,
    new_staff_refresh_token,
    new_totp_secret,
    qr_svg,
    recovery_code_hash,
    token_hash,
    totp_uri,
)
from mercato.services.customers.staff.schemas import (
    EnrolmentRequired,
    MfaRequired,
    StaffEnrolIn,
    StaffEnrolled,
    StaffTokenOut,
    StaffVerifyIn,
)
from mercato.services.customers.staff.service import SERVICE, UNKNOWN_STAFF, as_actor, is_locked, utc

INVALID_CREDENTIALS = "The e-mail address or password is not correct."
INVALID_CHALLENGE = "This sign-in has expired or was already completed; sign in again."
WRONG_CODE = "The code is not correct."
REPLAYED_CODE = "This code was already used; wait for the next one."


class AccountLocked(Problem):
    status, slug, title = 423, "account-locked", "Account locked"


def _locked(member: StaffMember, now: datetime) -> AccountLocked:
    until = utc(member.locked_until)  # type: ignore[arg-type]
    return AccountLocked(
        "Too many failed sign-in attempts: this account is locked until "
        f"{until:%H:%M} UTC. Try again then, or ask an admin to unlock it.",
        headers={"Retry-After": str(max(1, math.ceil((until - now).total_seconds())))},
        keep_changes=True,
        locked_until=until.isoformat(),
    )


async def _audit(
    session: AsyncSession, actor: Staff, action: str, **details: str | int | float | bool | None
) -> None:
    await record_staff_action(
        session, actor, action, service=SERVICE, target_type="staff", target_id=actor.id, details=details
    )


async def _refuse_if_locked(session: AsyncSession, member: StaffMember, actor: Staff, now: datetime) -> None:
    if is_locked(member, now):
        await _audit(session, actor, "auth.login_refused", reason="locked")
        raise _locked(member, now)


async def _failure(
    session: AsyncSession,
    realm: StaffRealm,
    member: StaffMember,
    actor: Staff,
    now: datetime,
    *,
    action: str,
    reason: str,
    detail: str,
) -> Problem:
    """Count a failed attempt (locking the account at the threshold) and say what to answer."""
    member.failed_attempts += 1
    await _audit(session, actor, action, reason=reason, failed_attempts=member.failed_attempts)
    if member.failed_attempts >= realm.settings.staff_lockout_threshold:
        member.locked_until = now + timedelta(seconds=realm.settings.staff_lockout_seconds)
        member.failed_attempts = 0  # the lock takes over; once it lapses, the count starts afresh
        await _audit(session, actor, "auth.locked", until=utc(member.locked_until).isoformat(), after=reason)
        return _locked(member, now)
    return Unauthorized(detail, keep_changes=True)


async def login(
    session: AsyncSession, realm: StaffRealm, email: str, password: str, *, source_ip: str | None
) -> MfaRequired | EnrolmentRequired:
    """The password step. An unknown e-mail and a wrong password get the same answer, after the same
    argon2 work (a dummy hash stands in for a missing account)."""
    now = datetime.now(UTC)
    email = normalise_email(email)
    member = await repo.staff_by_email(session, email, lock=True)
    password_ok = await realm.passwords.verify(member.password_hash if member else None, password)
    if member is None:
        anonymous = Staff(id=UNKNOWN_STAFF, roles=frozenset(), source_ip=source_ip)
        attempted = email[:320] if "@" in email else None  # never a password typed in the wrong box
        await _audit(session, anonymous, "auth.login_failed", reason="unknown_email", email=attempted)
        raise Unauthorized(INVALID_CREDENTIALS, keep_changes=True)
    actor = as_actor(member, source_ip)
    await _refuse_if_locked(session, member, actor, now)
    if not password_ok:
        raise await _failure(
            session,
            realm,
            member,
            actor,
            now,
            action="auth.login_failed",
            reason="wrong_password",
            detail=INVALID_CREDENTIALS,
        )
    # The password was right: from here on, saying why is no help to someone guessing.
    if not member.active:
        await _audit(session, actor, "auth.login_refused", reason="disabled")
        raise Forbidden("This staff account is disabled; ask an admin.", keep_changes=True)
    expires = utc(member.password_set_at) + timedelta(hours=realm.settings.staff_temporary_password_hours)
    if member.password_temporary and expires <= now:
        await _audit(session, actor, "auth.login_refused", reason="temporary_password_expired")
        raise Unauthorized(
            "This temporary password has expired; ask an admin for a new one.", keep_changes=True
        )
    if realm.passwords.needs_rehash(member.password_hash):
        member.password_hash = await realm.passwords.hash(password)

    token, hashed = new_challenge()
    enrolled = member.totp_secret is not None
    pending = None if enrolled else new_totp_secret()
    ttl = realm.settings.staff_challenge_ttl_seconds
    await repo.add_challenge(
        session,
        StaffChallenge(
            id=new_id("stch"),
            token_hash=hashed,
            staff_id=member.id,
            purpose="mfa" if enrolled else "enrolment",
            pending_totp_secret=pending,  # encrypted by its column (mercato/platform/crypto.py)
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        ),
    )
    common = {"challenge": token, "expires_in": ttl, "password_change_required": member.password_temporary}
    if pending is None:
        return MfaRequired(**common)
    uri = totp_uri(pending, email=member.email, issuer=realm.settings.staff_totp_issuer)
    return EnrolmentRequired(**common, secret=pending, otpauth_uri=uri, qr_svg=qr_svg(uri))


async def _open_challenge(
    session: AsyncSession,
    realm: StaffRealm,
    token: str,
    *,
    purpose: str,
    source_ip: str | None,
    now: datetime,
) -> tuple[StaffChallenge, StaffMember, Staff]:
    challenge = await repo.challenge_by_hash(session, token_hash(token))
    if challenge is None or challenge.used_at is not None or utc(challenge.expires_at) <= now:
        raise Unauthorized(INVALID_CHALLENGE)
    member = await repo.staff_by_id(session, challenge.staff_id, lock=True)
    if member is None or not member.active:
        raise Unauthorized(INVALID_CHALLENGE)
    if challenge.purpose != purpose:
        where = "/admin/v1/auth/enrol" if challenge.purpose == "enrolment" else "/admin/v1/auth/verify"
        raise Conflict(f"This sign-in continues at {where}.")
    if purpose == "enrolment" and member.totp_secret is not None:
        raise Conflict("This account has enrolled an authenticator meanwhile; sign in again.")
    if purpose == "mfa" and member.totp_secret is None:
        raise Unauthorized(INVALID_CHALLENGE)  # the second factor was reset meanwhile: enrol anew
    actor = as_actor(member, source_ip)
    await _refuse_if_locked(session, member, actor, now)
    return challenge, member, actor


async def _new_password_checked(
    realm: StaffRealm, member: StaffMember, new_password: str | None
) -> str | None:
    """A temporary password must be replaced in the same sign-in; any password may be."""
    if new_password is None:
        if member.password_temporary:
            raise UnprocessableEntity(
                "Your password was set by someone else: choose your own (`new_password`) to sign in.",
                errors={"new_password": "is required to replace the temporary password"},
            )
        return None
    if problem := password_problems(new_password, email=member.email):
        raise UnprocessableEntity(f"The new password {problem}.", errors={"new_password": problem})
    if await realm.passwords.verify(member.password_hash, new_password):
        problem = "must differ from the current one"
        raise UnprocessableEntity(f"The new password {problem}.", errors={"new_password": problem})
    return new_password


async def _check_code(
    session: AsyncSession,
    realm: StaffRealm,
    member: StaffMember,
    actor: Staff,
    secret: str,
    code: str,
    now: datetime,
) -> int:
    """The TOTP time-step of `code`, refusing a wrong code and a replayed one alike (both count)."""
    step = matching_step(secret, code)
    last = member.totp_last_step
    if step is None or (last is not None and step <= last):
        replay = step is not None
        raise await _failure(
            session,
            realm,
            member,
            actor,
            now,
            action="auth.mfa_failed",
            reason="replayed_code" if replay else "wrong_code",
            detail=REPLAYED_CODE if replay else WRONG_CODE,
        )
    return step


async def _signed_in(
    session: AsyncSession,
    realm: StaffRealm,
    challenge: StaffChallenge,
    member: StaffMember,
    actor: Staff,
    now: datetime,
    *,
    amr: list[str],
    new_password: str | None,
) -> StaffTokenOut:
    if not await repo.spend_challenge(session, challenge.id, now):
        raise Unauthorized(INVALID_CHALLENGE)  # a concurrent request completed it first
    member.failed_attempts = 0
    member.last_login_at = member.updated_at = now
    if new_password is not None:
        member.password_hash = await realm.passwords.hash(new_password)
        member.password_temporary = False
        member.password_set_at = now
        await _audit(session, actor, "auth.password_changed")
    await session.flush()
    await _audit(session, actor, "auth.login_succeeded", amr=" ".join(amr))
    return await _issue(session, realm, member, amr=amr)


async def _issue(
    session: AsyncSession,
    realm: StaffRealm,
    member: StaffMember,
    *,
    amr: list[str],
    family_id: str | None = None,
) -> StaffTokenOut:
    token, hashed = new_staff_refresh_token()
    now = datetime.now(UTC)
    await repo.add_refresh_token(
        session,
        StaffRefreshToken(
            id=new_id("srt"),
            token_hash=hashed,
            family_id=family_id or new_id("srtf"),
            staff_id=member.id,
            amr=amr,
            issued_at=now,
            expires_at=now + timedelta(hours=realm.settings.staff_refresh_token_ttl_hours),
        ),
    )
    left = await repo.recovery_codes_left(session, [member.id])
    return StaffTokenOut(
        access_token=realm.issuer.access_token(member.id, roles=member.roles, amr=amr),
        refresh_token=token,
        expires_in=realm.issuer.ttl_seconds,
        recovery_codes_remaining=left.get(member.id, 0),
    )


async def enrol(
    session: AsyncSession, realm: StaffRealm, data: StaffEnrolIn, *, source_ip: str | None
) -> StaffEnrolled:
    """Confirm the authenticator with its first code: the secret is kept (encrypted), ten recovery
    codes are made and shown this once, and the sign-in completes."""
    now = datetime.now(UTC)
    challenge, member, actor = await _open_challenge(
        session, realm, data.challenge, purpose="enrolment", source_ip=source_ip, now=now
    )
    new_password = await _new_password_checked(realm, member, data.new_password)
    assert challenge.pending_totp_secret is not None
    secret = challenge.pending_totp_secret
    step = await _check_code(session, realm, member, actor, secret, data.code, now)
    member.totp_secret = secret
    member.totp_enrolled_at = now
    member.totp_last_step = step
    codes = new_recovery_codes()
    await repo.replace_recovery_codes(
        session,
        member.id,
        [
            StaffRecoveryCode(
                id=new_id("strc"), staff_id=member.id, code_hash=recovery_code_hash(c), created_at=now
            )
            for c in codes
        ],
    )
    await _audit(session, actor, "auth.mfa_enrolled")
    tokens = await _signed_in(
        session, realm, challenge, member, actor, now, amr=["pwd", "otp"], new_password=new_password
    )
    return StaffEnrolled(**tokens.model_dump(), recovery_codes=codes)


async def verify(
    session: AsyncSession, realm: StaffRealm, data: StaffVerifyIn, *, source_ip: str | None
) -> StaffTokenOut:
    """The second factor of an enrolled account: a TOTP code, or one of the recovery codes (once each)."""
    now = datetime.now(UTC)
    challenge, member, actor = await _open_challenge(
        session, realm, data.challenge, purpose="mfa", source_ip=source_ip, now=now
    )
    new_password = await _new_password_checked(realm, member, data.new_password)
    assert member.totp_secret is not None
    if data.code is not None:
        secret = member.totp_secret
        member.totp_last_step = await _check_code(session, realm, member, actor, secret, data.code, now)
        amr = ["pwd", "otp"]
    else:
        assert data.recovery_code is not None
        if not await repo.use_recovery_code(session, member.id, recovery_code_hash(data.recovery_code), now):
            raise await _failure(
                session,
                realm,
                member,
                actor,
                now,
                action="auth.mfa_failed",
                reason="wrong_recovery_code",
                detail="The recovery code is not correct or was already used.",
            )
        left = (await repo.recovery_codes_left(session, [member.id])).get(member.id, 0)
        await _audit(session, actor, "auth.recovery_code_used", remaining=left)
        amr = ["pwd", "otp", "recovery_code"]
    return await _signed_in(session, realm, challenge, member, actor, now, amr=amr, new_password=new_password)


async def refresh(session: AsyncSession, realm: StaffRealm, refresh_token: str) -> StaffTokenOut:
    """Rotate, as for shoppers (a reused token revokes its whole family). The new access token carries
    the roles the staff member has now; a disabled account gets none."""
    now = datetime.now(UTC)
    stored = await repo.refresh_token_by_hash(session, token_hash(refresh_token))
    if stored is None or stored.revoked_at is not None or utc(stored.expires_at) <= now:
        raise Unauthorized("The refresh token is not valid; sign in again.")
    if not await repo.mark_refresh_token_used(session, stored.id, now):
        await repo.revoke_family(session, stored.family_id, now)
        raise Unauthorized(
            "This refresh token was already used; every session of this sign-in has been revoked.",
            keep_changes=True,
        )
    member = await repo.staff_by_id(session, stored.staff_id)
    if member is None or not member.active or member.totp_secret is None:
        await repo.revoke_family(session, stored.family_id, now)
        raise Unauthorized("This staff account can no longer sign in.", keep_changes=True)
    return await _issue(session, realm, member, amr=list(stored.amr), family_id=stored.family_id)


async def logout(session: AsyncSession, refresh_token: str, *, source_ip: str | None) -> None:
    """End the session the refresh token belongs to (its whole family). Unknown tokens are fine too:
    there is nothing to say to someone holding one."""
    stored = await repo.refresh_token_by_hash(session, token_hash(refresh_token))
    if stored is None or stored.revoked_at is not None:
        return
    await repo.revoke_family(session, stored.family_id, datetime.now(UTC))
    member = await repo.staff_by_id(session, stored.staff_id)
    if member is not None:
        await _audit(session, as_actor(member, source_ip), "auth.logout")


async def purge_expired_challenges(session: AsyncSession) -> int:
    return await repo.purge_challenges(session, datetime.now(UTC) - timedelta(hours=1))
