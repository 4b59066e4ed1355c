from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, event, func, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from mercato.contracts.emails import normalise_email
from mercato.platform.columns import UTCDateTime
from mercato.platform.crypto import Encrypted, EncryptedJSON, keys_of


class Base(DeclarativeBase):
    pass


def normalised_name(name: str) -> str:
    """Case and spacing don't matter to the back office's search by name."""
    return " ".join(name.casefold().split())


class Customer(Base):
    """Personal data (e-mail, name, phone) is stored encrypted (mercato/platform/crypto.py); the e-mail
    and the name are found through blind indexes, keyed HMACs of their normalised values."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(Encrypted())
    # Set on every write from `email` / `name` (see `_blind_indexes` below): uniqueness and sign-in go
    # through `email_index`, the back office's exact search by name through `name_index`.
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    name_index: Mapped[str] = mapped_column(String(64), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Encrypted())
    phone: Mapped[str | None] = mapped_column(Encrypted())
    language: Mapped[str] = mapped_column(String(8), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    newsletter: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_in_email: Mapped[bool] = mapped_column(Boolean, default=True)
    opt_in_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_in_push: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | erased
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), server_default=func.now(), onupdate=func.now()
    )
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_customer", "customer_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # Encrypted, all but the country.
    name: Mapped[str] = mapped_column(Encrypted())
    line1: Mapped[str] = mapped_column(Encrypted())
    line2: Mapped[str | None] = mapped_column(Encrypted())
    city: Mapped[str] = mapped_column(Encrypted())
    postal_code: Mapped[str] = mapped_column(Encrypted())
    region: Mapped[str | None] = mapped_column(Encrypted())
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(Encrypted())
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


def email_index(bind: Any, email: str) -> str:
    """The blind index of an e-mail address, with the keys bound to `bind` (session or connection)."""
    blind = keys_of(bind).blind_index
    assert blind is not None, "customers needs a blind index key"
    return blind.of(normalise_email(email), purpose="customer.email")


def unmerged_email_index(bind: Any, email: str) -> str:
    """For an account whose stored address normalises to another account's (left apart by migration
    0004 for support to resolve): indexed as stored, so both stay unique and neither takes the other's."""
    blind = keys_of(bind).blind_index
    assert blind is not None, "customers needs a blind index key"
    return blind.of(email, purpose="customer.email.unmerged")


def name_index(bind: Any, name: str) -> str:
    blind = keys_of(bind).blind_index
    assert blind is not None, "customers needs a blind index key"
    return blind.of(normalised_name(name), purpose="customer.name")


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _blind_indexes(_mapper: Mapper[Any], connection: Connection, customer: Customer) -> None:
    """The indexes always follow the values they index, whoever writes them."""
    state = inspect(customer)
    if customer.email_index is None or state.attrs.email.history.has_changes():
        customer.email_index = email_index(connection, customer.email)
    if customer.name_index is None or state.attrs.name.history.has_changes():
        customer.name_index = name_index(connection, customer.name)


class RefreshToken(Base):
    """Only a SHA-256 of each refresh token is stored; the token itself is shown to the client once."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """One wrong password for an account (keyed by its e-mail's blind index, known account or not),
    kept for the failure window: the per-account sign-in limit counts these. In the database, not in
    a process, so that every replica counts the same failures."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_account", "account_key", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PasswordReset(Base):
    """A password-reset link sent by e-mail: single-use, short-lived, and stored only as the SHA-256 of
    its 256-bit token, so the table signs nobody in."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_customer", "customer_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- the staff realm ------------------------------------------------------------------------------


class StaffMember(Base):
    """A back-office account: a realm of its own, never a customer. Secrets are stored so that a copy of
    the database signs nobody in: an argon2id password hash, the TOTP secret encrypted with a key kept
    outside the database, and only hashes of recovery codes, challenges and refresh tokens."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Set by someone else (an admin, the CLI, the development seed): it must be replaced at first sign-in.
    password_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    password_set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Encrypted under the customers' data keys, as personal data is; None: not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(Encrypted())
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last TOTP time-step accepted: a code of that step or an earlier one is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffRecoveryCode(Base):
    """One of the ten one-time codes shown once at enrolment (SHA-256 of 80 random bits each)."""

    __tablename__ = "staff_recovery_codes"
    __table_args__ = (Index("ix_staff_recovery_codes_staff", "staff_id", "code_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffChallenge(Base):
    """The short-lived, single-use proof that a password was right, awaiting the second factor.
    For an enrolment it also holds the pending TOTP secret (encrypted) until the first code confirms it."""

    __tablename__ = "staff_challenges"
    __table_args__ = (Index("ix_staff_challenges_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))  # mfa | enrolment
    pending_totp_secret: Mapped[str | None] = mapped_column(Encrypted())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffRefreshToken(Base):
    """As `RefreshToken`, for staff sessions: rotating, stored hashed, a family per sign-in."""

    __tablename__ = "staff_refresh_tokens"
    __table_args__ = (Index("ix_staff_refresh_tokens_family", "family_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(40))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    amr: Mapped[list[str]] = mapped_column(JSON)  # how the sign-in was made; every token of it says so
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """The audit log: one row per `StaffActionRecorded`, from whichever service the action happened in.
    Append-only; the row id is the event id."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred", "occurred_at", "id"),
        Index("ix_audit_log_staff", "staff_id", "occurred_at"),
        Index("ix_audit_log_action", "action", "occurred_at"),
        Index("ix_audit_log_target", "target_type", "target_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    staff_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    service: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(200))
    source_ip: Mapped[str | None] = mapped_column(String(200))
    # Encrypted: it may name a customer (a support search by e-mail, an erasure's reason).
    details: Mapped[dict[str, object]] = mapped_column(EncryptedJSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
