from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from mercato.contracts.inputs import Input

MAX_TOKEN_LENGTH = 4096
_APNS = re.compile(r"^[0-9a-fA-F]{64}$")
_FCM = re.compile(r"^[A-Za-z0-9_:.\-]+$")


class MessageOut(BaseModel):
    id: str
    kind: str
    channel: str
    platform: str | None = None  # push: ios | android
    customer_id: str
    order_id: str | None
    to_address: str
    subject: str | None
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    event_id: str
    event_occurred_at: datetime
    created_at: datetime
    sent_at: datetime | None


class MessageList(BaseModel):
    data: list[MessageOut]


class DeviceIn(Input):
    """A phone to push to: its platform and the token its provider gave the app."""

    platform: Literal["ios", "android"]
    token: str = Field(
        min_length=32,
        max_length=MAX_TOKEN_LENGTH,
        pattern=_FCM.pattern,  # both kinds (hexadecimal is a subset); the validator checks the platform's
        description="iOS: the APNs device token, 64 hexadecimal characters. Android: the FCM registration "
        "token (letters, digits, `-`, `_`, `:` and `.`, at most 4096 characters).",
    )

    @field_validator("token")
    @classmethod
    def _token_fits_platform(cls, token: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        return normalised_token(platform, token) if platform else token


class DeviceOut(BaseModel):
    platform: Literal["ios", "android"]
    token: str
    created_at: datetime


class DeviceRecord(DeviceOut):
    updated_at: datetime


class OptInsOut(BaseModel):
    """The channels the customer agreed to, as notifications last heard from customers."""

    email: bool
    sms: bool
    push: bool


class Communications(BaseModel):
    """What notifications holds about one customer: the opt-ins it honours, their devices and every
    message written to them (e-mail, SMS, push), newest first — for their GDPR export."""

    customer_id: str
    opt_ins: OptInsOut | None  # None: not heard of them yet, or erased
    devices: list[DeviceRecord]
    messages: list[MessageOut]


def normalised_token(platform: str, token: str) -> str:
    """The token as stored (APNs tokens in lower case); ValueError if it can't be one of `platform`'s."""
    if platform == "ios":
        if not _APNS.match(token):
            raise ValueError("an APNs device token is 64 hexadecimal characters")
        return token.lower()
    if not (32 <= len(token) <= MAX_TOKEN_LENGTH and _FCM.match(token)):
        raise ValueError("not an FCM registration token")
    return token
