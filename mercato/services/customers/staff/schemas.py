"""API models of the staff realm: sign-in, staff management and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from mercato.contracts.emails import EmailAddress
from mercato.contracts.inputs import SINGLE_LINE
from mercato.contracts.staff import Role
from mercato.platform.patch import Patch
from mercato.services.customers.schemas import Input, Name

Password = Annotated[str, Field(min_length=1, max_length=1024)]
TotpCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$"), Field(description="6 digits.")
]
RecoveryCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), SINGLE_LINE
]
Challenge = Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]
Roles = Annotated[list[Role], Field(min_length=1, max_length=4)]


# --- sign-in ------------------------------------------------------------------------------------------


class StaffLoginIn(Input):
    email: Annotated[str, Field(max_length=320), SINGLE_LINE]
    password: Password


class _ChallengeOut(BaseModel):
    challenge: str = Field(description="Single-use proof of the password step; send it with the code.")
    expires_in: int = Field(description="Seconds the challenge stays valid.")
    password_change_required: bool = Field(
        description="The password was set by someone else: send `new_password` with the code."
    )


class MfaRequired(_ChallengeOut):
    status: Literal["mfa_required"] = "mfa_required"


class EnrolmentRequired(_ChallengeOut):
    """Not enrolled yet: add `secret` to an authenticator app (scan `qr_svg`), then confirm a code."""

    status: Literal["enrolment_required"] = "enrolment_required"
    secret: str = Field(description="The TOTP secret (base32), for typing in when the QR code can't be used.")
    otpauth_uri: str
    qr_svg: str = Field(description="`otpauth_uri` as a QR code, an SVG document.")


class StaffEnrolIn(Input):
    challenge: Challenge
    code: TotpCode
    new_password: Password | None = None


class StaffVerifyIn(Input):
    challenge: Challenge
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
    new_password: Password | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> StaffVerifyIn:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either `code` or `recovery_code`")
        return self


class StaffRefreshIn(Input):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]


class StaffTokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int
    recovery_codes_remaining: int = Field(description="Unused recovery codes; enrol again when low.")


class StaffEnrolled(StaffTokenOut):
    recovery_codes: list[str] = Field(
        description="Ten one-time codes for when the phone is lost. Shown once: store them safely."
    )


# --- staff management --------------------------------------------------------------------------------


class StaffIn(Input):
    email: EmailAddress
    name: Name
    roles: Roles
    password: Password | None = Field(
        default=None,
        description="Optional: a first password (meeting the password rules). Omitted: one is generated. "
        "Either way it is temporary: the staff member replaces it at first sign-in.",
    )


class StaffPatch(Patch):
    name: Name | None = None
    roles: Roles | None = None
    active: bool | None = None


class StaffOut(BaseModel):
    id: str
    email: str
    name: str
    roles: list[Role]
    active: bool
    mfa_enrolled: bool
    recovery_codes_remaining: int
    password_change_required: bool
    locked_until: datetime | None = Field(description="Set while the account is locked.")
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StaffCreated(StaffOut):
    temporary_password: str | None = Field(
        description="The generated first password, shown once (null when you set one, and on a replay)."
    )


class TemporaryPasswordOut(BaseModel):
    staff_id: str
    temporary_password: str
    expires_at: datetime


# --- audit log ---------------------------------------------------------------------------------------


class AuditEntryOut(BaseModel):
    id: str = Field(description="The event id of the StaffActionRecorded it came from.")
    occurred_at: datetime
    staff_id: str = Field(description="`stf_…`; `unknown` for a sign-in with an unknown e-mail; `cli`.")
    action: str
    service: str
    target_type: str | None
    target_id: str | None
    source_ip: str | None
    details: dict[str, str | int | float | bool | None]
    recorded_at: datetime
