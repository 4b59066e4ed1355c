from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mercato.contracts.addresses import Phone, PostalAddress
from mercato.contracts.currencies import Currency
from mercato.contracts.emails import EmailAddress
from mercato.contracts.inputs import SINGLE_LINE, TEXT, Input
from mercato.platform.patch import Patch
from mercato.services.customers.clients import Communications

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE]


class RegisterIn(Input):
    email: EmailAddress
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    name: Name


class TokenIn(Input):
    email: Annotated[str, Field(max_length=320), SINGLE_LINE]
    password: Annotated[str, Field(max_length=1024)]


class RefreshIn(Input):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]


class PasswordChangeIn(Input):
    current_password: Annotated[str, Field(max_length=1024)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordResetIn(Input):
    email: Annotated[str, Field(max_length=320), SINGLE_LINE]


class PasswordResetConfirmIn(Input):
    token: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int


class Preferences(BaseModel):
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"
    currency: Currency = "EUR"
    newsletter: bool = False


class Communication(BaseModel):
    """Which channels the customer agreed to be contacted on."""

    email: bool = True
    sms: bool = False
    push: bool = False


class PreferencesPatch(Patch):
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = None
    currency: Currency | None = None
    newsletter: bool | None = None


class CommunicationPatch(Patch):
    email: bool | None = None
    sms: bool | None = None
    push: bool | None = None


class ProfilePatch(Patch):
    """Null clears the phone number; on any other field it is a 422 (leave a field out to keep it)."""

    nullable = frozenset({"phone"})

    name: Name | None = None
    phone: Phone | None = None
    preferences: PreferencesPatch | None = None
    communication: CommunicationPatch | None = None


class CustomerOut(BaseModel):
    id: str
    email: str
    name: str
    phone: str | None
    preferences: Preferences
    communication: Communication
    created_at: datetime


class AddressIn(PostalAddress):
    is_default: bool = False


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    phone: str | None
    is_default: bool
    created_at: datetime


class CustomerExport(BaseModel):
    """GDPR Art. 20: everything the customers service holds about the caller."""

    exported_at: datetime
    customer: CustomerOut
    addresses: list[AddressOut]
    sessions: list[dict[str, datetime | None]]
    # From notifications: the devices they take push on, and every message written to them.
    communications: Communications


# --- customer support (staff) ------------------------------------------------------------------------


class CustomerSummary(BaseModel):
    id: str
    email: str
    name: str
    status: Literal["active", "erased"]
    created_at: datetime


class CustomerLookup(BaseModel):
    data: list[CustomerSummary]


class CustomerSupportView(CustomerOut):
    """What support sees of a customer: the profile, opt-ins, address book, and whether it was erased."""

    status: Literal["active", "erased"]
    erased: bool
    updated_at: datetime
    erased_at: datetime | None
    addresses: list[AddressOut]


class ErasureIn(Input):
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        TEXT,
        Field(description="Why, e.g. the customer's request and its reference: kept in the audit log."),
    ]


class ErasureOut(BaseModel):
    customer_id: str
    status: Literal["erased"] = "erased"
    erased_at: datetime
    already_erased: bool = Field(description="True when an earlier request had erased it already.")
