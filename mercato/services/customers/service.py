"""Customers use cases: registration, sign-in with rotating refresh tokens, profile, address book, GDPR
export and erasure — for the customer themselves, and for support staff acting on a customer's request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.emails import normalise_email
from mercato.contracts.events import CustomerErased, CustomerRegistered, CustomerUpdated, OptIns
from mercato.platform.db import Database
from mercato.platform.errors import Conflict, NotFound, Problem, Unauthorized, UnprocessableEntity
from mercato.platform.ids import is_id, new_id
from mercato.platform.outbox import record_event
from mercato.platform.sessions import sessions_valid_after
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.customers import repository as repo
from mercato.services.customers.clients import Notifications
from mercato.services.customers.credentials import (
    Passwords,
    TokenIssuer,
    new_refresh_token,
    password_problems,
    refresh_token_hash,
)
from mercato.services.customers.models import Address, Customer, RefreshToken
from mercato.services.customers.schemas import (
    AddressIn,
    AddressOut,
    Communication,
    CustomerExport,
    CustomerOut,
    CustomerSummary,
    CustomerSupportView,
    ErasureOut,
    Preferences,
    ProfilePatch,
    RegisterIn,
    TokenOut,
)
from mercato.services.customers.sessions import end_all_sessions

INVALID_CREDENTIALS = "The e-mail address or password is not correct."


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        email=customer.email,
        name=customer.name,
        phone=customer.phone,
        preferences=Preferences(
            language=customer.language, currency=customer.currency, newsletter=customer.newsletter
        ),
        communication=Communication(
            email=customer.opt_in_email, sms=customer.opt_in_sms, push=customer.opt_in_push
        ),
        created_at=customer.created_at,
    )


def _contact(customer: Customer) -> dict[str, object]:
    """What customer events carry about a customer: what notifications need to reach them."""
    return {
        "customer_id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "language": customer.language,
        "opt_ins": OptIns(email=customer.opt_in_email, sms=customer.opt_in_sms, push=customer.opt_in_push),
    }


async def register(session: AsyncSession, passwords: Passwords, data: RegisterIn) -> CustomerOut:
    email = data.email  # already normalised (EmailAddress)
    if problem := password_problems(data.password, email=email):
        raise UnprocessableEntity(f"The password {problem}.", errors={"password": problem})
    customer = Customer(
        id=new_id("cus"),
        email=email,
        password_hash=await passwords.hash(data.password),
        name=data.name,
        created_at=datetime.now(UTC),
    )
    try:
        await repo.add_customer(session, customer)
    except repo.EmailTaken:
        raise Conflict(
            "An account with this e-mail address already exists.", errors={"email": "is already registered"}
        ) from None
    await record_event(
        session,
        CustomerRegistered(**_contact(customer), registered_at=customer.created_at),
        aggregate_id=customer.id,
    )
    return customer_out(customer)


async def _issue_tokens(
    session: AsyncSession, issuer: TokenIssuer, customer_id: str, *, family_id: str | None = None
) -> TokenOut:
    token, token_hash = new_refresh_token()
    now = datetime.now(UTC)
    await repo.add_refresh_token(
        session,
        RefreshToken(
            id=new_id("rt"),
            token_hash=token_hash,
            family_id=family_id or new_id("rtf"),
            customer_id=customer_id,
            issued_at=now,
            expires_at=now + timedelta(days=issuer.settings.refresh_token_ttl_days),
        ),
    )
    return TokenOut(
        access_token=issuer.access_token(
            customer_id, sessions_valid_after=await sessions_valid_after(session, customer_id)
        ),
        refresh_token=token,
        expires_in=issuer.settings.access_token_ttl_seconds,
    )


class TooManyAttempts(Problem):
    status, slug, title = 429, "too-many-sign-in-attempts", "Too many sign-in attempts"


@dataclass(frozen=True)
class SignInLimits:
    failures: int = 5
    window_seconds: int = 60


async def purge_sign_in_failures(session: AsyncSession, limits: SignInLimits) -> None:
    await repo.purge_failures(session, datetime.now(UTC) - timedelta(seconds=limits.window_seconds))


async def sign_in(
    db: Database,
    passwords: Passwords,
    issuer: TokenIssuer,
    email: str,
    password: str,
    *,
    limits: SignInLimits = SignInLimits(),
) -> TokenOut:
    """Wrong passwords are counted per account (known or not, so the answer tells nothing): past
    `limits.failures` within `limits.window_seconds`, 429 until the oldest leaves the window — before
    any argon2 work, so a flood on one account costs nothing and slows nobody else.

    Three steps, so that no database connection is held while argon2 runs (on SQLite the one writer
    connection would otherwise serialise every sign-in, and every other write, behind the hashes):
    read the count and the account, check the password, then write the outcome."""
    now = datetime.now(UTC)
    async with db.read() as session:
        key = repo.account_key(session, email)
        failures = await repo.recent_failures(session, key, now - timedelta(seconds=limits.window_seconds))
        if len(failures) >= limits.failures:
            retry = limits.window_seconds - (now - failures[-limits.failures]).total_seconds()
            raise TooManyAttempts(
                "Too many wrong passwords for this account; wait a minute and try again.",
                headers={"Retry-After": str(max(1, math.ceil(retry)))},
            )
        customer = await repo.customer_by_email(session, normalise_email(email))
        customer_id, password_hash = (customer.id, customer.password_hash) if customer else (None, None)
    right = await passwords.verify(password_hash, password)
    async with db.unit_of_work() as session:
        if not right or customer_id is None or password_hash is None:
            await repo.add_failure(session, key, now)
            raise Unauthorized(INVALID_CREDENTIALS, keep_changes=True)
        if failures:
            await repo.clear_failures(session, key)
        if passwords.needs_rehash(password_hash):
            await repo.set_password_hash(session, customer_id, await passwords.hash(password))
        return await _issue_tokens(session, issuer, customer_id)


async def refresh(
    session: AsyncSession, issuer: TokenIssuer, refresh_token: str, *, reuse_leeway_seconds: float = 0.0
) -> TokenOut:
    """Rotate: the presented token is spent and a new one of the same family is issued.

    Presenting a spent token means it was copied: the whole family — every session descended from that
    sign-in — is revoked, so a thief's copy and the victim's both stop. Within `reuse_leeway_seconds` of
    its rotation, though, a second presentation is the same client racing itself (two tabs whose access
    tokens expired together); it gets a pair of its own in the same family, as Auth0's "reuse interval"
    does. A thief would have to replay within those seconds, and the family still dies on any later reuse."""
    now = datetime.now(UTC)
    stored = await repo.refresh_token_by_hash(session, refresh_token_hash(refresh_token))
    if stored is None or stored.revoked_at is not None or stored.expires_at.replace(tzinfo=UTC) <= now:
        raise Unauthorized("The refresh token is not valid; sign in again.")
    if not await repo.mark_refresh_token_used(session, stored.id, now):
        used_at = await repo.refresh_token_used_at(session, stored.id)
        if used_at is not None and now - used_at.replace(tzinfo=UTC) <= timedelta(
            seconds=reuse_leeway_seconds
        ):
            return await _issue_tokens(session, issuer, stored.customer_id, family_id=stored.family_id)
        await repo.revoke_family(session, stored.family_id, now)
        raise Unauthorized(
            "This refresh token was already used; every session of this sign-in has been revoked.",
            keep_changes=True,
        )
    return await _issue_tokens(session, issuer, stored.customer_id, family_id=stored.family_id)


async def _require(session: AsyncSession, customer_id: str) -> Customer:
    customer = await repo.active_customer(session, customer_id)
    if customer is None:
        raise Unauthorized("This account no longer exists.")
    return customer


async def profile(session: AsyncSession, customer_id: str) -> CustomerOut:
    return customer_out(await _require(session, customer_id))


async def update_profile(session: AsyncSession, customer_id: str, patch: ProfilePatch) -> CustomerOut:
    customer = await _require(session, customer_id)
    before = _contact(customer)
    changes = patch.model_dump(exclude_unset=True)
    for field in ("name", "phone"):
        if field in changes:
            setattr(customer, field, changes[field])
    for field, value in (changes.get("preferences") or {}).items():
        if value is not None:
            setattr(customer, field, value)
    for channel, value in (changes.get("communication") or {}).items():
        if value is not None:
            setattr(customer, f"opt_in_{channel}", value)
    customer.updated_at = datetime.now(UTC)
    await session.flush()
    if _contact(customer) != before:  # currency and newsletter are nobody else's business
        await record_event(
            session,
            CustomerUpdated(**_contact(customer), updated_at=customer.updated_at),
            aggregate_id=customer.id,
        )
    return customer_out(customer)


async def list_addresses(
    session: AsyncSession, customer_id: str, *, after: str | None, limit: int
) -> list[AddressOut]:
    await _require(session, customer_id)
    rows = await repo.addresses(session, customer_id, after=after, limit=limit)
    return [AddressOut.model_validate(row) for row in rows]


async def add_address(session: AsyncSession, customer_id: str, data: AddressIn) -> AddressOut:
    await _require(session, customer_id)
    address = Address(
        id=new_id("adr"), customer_id=customer_id, created_at=datetime.now(UTC), **data.model_dump()
    )
    await repo.add_address(session, address)
    return AddressOut.model_validate(address)


async def delete_address(session: AsyncSession, customer_id: str, address_id: str) -> None:
    await _require(session, customer_id)
    # Someone else's address and a missing one look the same: 404, so ids can't be probed.
    if not await repo.delete_address(session, customer_id, address_id):
        raise NotFound("No such address in your address book.")


async def export(session: AsyncSession, customer_id: str, notifications: Notifications) -> CustomerExport:
    customer = await _require(session, customer_id)
    addresses = await repo.addresses(session, customer_id, after=None, limit=10_000)
    sessions = await repo.sessions_of(session, customer_id)
    communications = await notifications.communications(customer_id)  # 503 if it can't answer
    return CustomerExport(
        communications=communications,
        exported_at=datetime.now(UTC),
        customer=customer_out(customer),
        addresses=[AddressOut.model_validate(a) for a in addresses],
        sessions=[
            {"issued_at": s.issued_at, "expires_at": s.expires_at, "revoked_at": s.revoked_at}
            for s in sessions
        ],
    )


async def erase(session: AsyncSession, customer_id: str) -> None:
    """GDPR Art. 17: close the account now and remove personal data; the id stays for referential history."""
    await _erase(session, await _require(session, customer_id))


async def _erase(session: AsyncSession, customer: Customer) -> None:
    now = datetime.now(UTC)
    customer.status = "erased"
    customer.email = f"erased+{customer.id.lower()}@invalid"
    customer.name = ""
    customer.phone = None
    customer.password_hash = "!"  # noqa: S105 - matches no password
    customer.opt_in_email = customer.opt_in_sms = customer.opt_in_push = customer.newsletter = False
    customer.erased_at = customer.updated_at = now
    await repo.delete_all_addresses(session, customer.id)
    await session.flush()
    await end_all_sessions(session, customer.id, "erased", now)
    await record_event(
        session, CustomerErased(customer_id=customer.id, erased_at=now), aggregate_id=customer.id
    )


# --- customer support: staff acting for a customer, every access on the audit trail -------------------


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def _any_customer(session: AsyncSession, customer_id: str, *, lock: bool = False) -> Customer:
    customer = await repo.customer(session, customer_id, lock=lock) if is_id(customer_id, "cus") else None
    if customer is None:
        raise NotFound("No customer with this id.")
    return customer


async def _audit(
    session: AsyncSession, staff: Staff, action: str, customer_id: str | None, **details: str | bool | None
) -> None:
    await record_staff_action(
        session,
        staff,
        action,
        service="customers",
        target_type="customer" if customer_id else None,
        target_id=customer_id,
        details=details,
    )


async def find_customers(
    session: AsyncSession, q: str | None, *, before: str | None, limit: int, staff: Staff
) -> list[CustomerSummary]:
    rows = await repo.find_customers(session, q=q.strip() if q else None, before=before, limit=limit)
    await _audit(session, staff, "customer.search", None, q=q)
    return [
        CustomerSummary(
            id=c.id,
            email=c.email,
            name=c.name,
            status=c.status,
            created_at=_utc(c.created_at),  # type: ignore[arg-type]
        )
        for c in rows
    ]


async def customers_by_ids(session: AsyncSession, ids: list[str], *, staff: Staff) -> list[CustomerSummary]:
    """The customers among `ids` (unknown ids are left out), for a page that lists many at once (the
    back office's orders): one query, one audit entry."""
    rows = await repo.customers_by_ids(session, sorted(set(ids)))
    await _audit(session, staff, "customer.lookup", None, ids=",".join(sorted(set(ids)))[:1000])
    return [
        CustomerSummary(
            id=c.id,
            email=c.email,
            name=c.name,
            status=c.status,  # type: ignore[arg-type]
            created_at=_utc(c.created_at),  # type: ignore[arg-type]
        )
        for c in rows
    ]


async def support_view(session: AsyncSession, customer_id: str, *, staff: Staff) -> CustomerSupportView:
    customer = await _any_customer(session, customer_id)
    addresses = await repo.addresses(session, customer.id, after=None, limit=10_000)
    await _audit(session, staff, "customer.view", customer.id)
    return CustomerSupportView(
        **customer_out(customer).model_dump(),
        status=customer.status,  # type: ignore[arg-type]
        erased=customer.status == "erased",
        updated_at=_utc(customer.updated_at),
        erased_at=_utc(customer.erased_at) if customer.erased_at else None,
        addresses=[AddressOut.model_validate(a) for a in addresses],
    )


async def support_export(
    session: AsyncSession, customer_id: str, notifications: Notifications, *, staff: Staff
) -> CustomerExport:
    """The export the customer would get from /me/export, for a request made to support."""
    customer = await _any_customer(session, customer_id)
    if customer.status == "erased":
        erased_on = _utc(customer.erased_at or customer.updated_at)
        raise Conflict(
            f"This customer's personal data was erased on {erased_on:%Y-%m-%d}; nothing is left to export."
        )
    exported = await export(session, customer.id, notifications)
    await _audit(session, staff, "customer.export", customer.id)
    return exported


async def erase_on_request(
    session: AsyncSession, customer_id: str, reason: str, *, staff: Staff
) -> ErasureOut:
    """GDPR erasure asked of support: the same as the customer's own DELETE /me (and its CustomerErased,
    so every service forgets them). Asking again is fine: it answers the same and erases nothing more."""
    customer = await _any_customer(session, customer_id, lock=True)
    already = customer.status == "erased"
    if not already:
        await _erase(session, customer)
    await _audit(session, staff, "customer.erase", customer.id, reason=reason, already_erased=already)
    assert customer.erased_at is not None
    return ErasureOut(customer_id=customer.id, erased_at=_utc(customer.erased_at), already_erased=already)
