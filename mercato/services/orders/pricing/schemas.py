"""The back office's shapes for tax rates, shipping zones and shipping methods (`/admin/v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from mercato.contracts.inputs import SINGLE_LINE, Input
from mercato.contracts.money import Currency, Money
from mercato.platform.patch import Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE]
Country = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]
PostalPattern = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9*?][A-Za-z0-9*? -]{0,19}$"),
    Field(description="A postal code, `*` for any characters, `?` for one: `10*`, `EC1?`, `IV*`."),
]
Countries = Annotated[list[Country], Field(min_length=1, max_length=60)]
Patterns = Annotated[list[PostalPattern], Field(max_length=200)]
Amount = Annotated[int, Field(ge=0, le=100_000_000)]
Days = Annotated[int, Field(ge=0, le=90)]
Kind = Literal["standard", "express", "click_and_collect"]
RateType = Literal["flat", "value", "weight"]


class TaxRateOut(BaseModel):
    country: str
    region: str = Field(description="A US state's code; empty for the whole country.")
    tax_class: str
    rate: str = Field(description="A decimal percentage: `19`, `5.5`, `8.875`.")
    label: str
    shipping_taxable: bool


class ZoneIn(Input):
    name: Name
    countries: Countries
    postal_patterns: Patterns = Field(
        default_factory=list, description="Limit the zone to these postal codes; empty: whole countries."
    )
    active: bool = True


class ZonePatch(Patch):
    name: Name | None = None
    countries: Countries | None = None
    postal_patterns: Patterns | None = None
    active: bool | None = Field(
        default=None, description="false deactivates: its methods are offered no more."
    )


class ZoneOut(BaseModel):
    id: str
    name: str
    countries: list[str]
    postal_patterns: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class BandIn(Input):
    up_to: Amount | None = Field(
        description="Order value (minor units) or weight (grams) up to which, inclusive, `amount` is "
        "charged; null: everything above the previous band (the last band only)."
    )
    amount: Amount


def check_bands(rate_type: str | None, bands: list[BandIn] | None) -> None:
    if rate_type in ("value", "weight") and not bands:
        raise ValueError("a rate by value or weight needs bands")
    limits = [b.up_to for b in bands or []]
    if None in limits[:-1]:
        raise ValueError("only the last band may be open (up_to null)")
    bounded = [limit for limit in limits if limit is not None]
    if bounded != sorted(set(bounded)):
        raise ValueError("bands must rise: each up_to greater than the one before")


class MethodIn(Input):
    zone_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    name: Name
    kind: Kind
    currency: Currency
    rate_type: RateType = "flat"
    amount: Amount = Field(default=0, description="The flat rate, in minor units of `currency`.")
    bands: Annotated[list[BandIn], Field(max_length=20)] = Field(default_factory=list)
    free_from: Amount | None = Field(default=None, description="Order value from which it is free.")
    min_days: Days
    max_days: Days
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> MethodIn:
        check_bands(self.rate_type, self.bands)
        if self.min_days > self.max_days:
            raise ValueError("min_days may not be more than max_days")
        return self


class MethodPatch(Patch):
    nullable = frozenset({"free_from"})

    name: Name | None = None
    kind: Kind | None = None
    rate_type: RateType | None = None
    amount: Amount | None = None
    bands: Annotated[list[BandIn], Field(max_length=20)] | None = None
    free_from: Amount | None = None
    min_days: Days | None = None
    max_days: Days | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    active: bool | None = Field(default=None, description="false deactivates: it is offered no more.")


class BandOut(BaseModel):
    up_to: int | None
    amount: int


class MethodOut(BaseModel):
    id: str
    zone_id: str
    name: str
    kind: str
    currency: str
    rate_type: str
    amount: Money
    bands: list[BandOut]
    free_from: Money | None
    min_days: int
    max_days: int
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime


class ZoneList(BaseModel):
    data: list[ZoneOut]


class MethodList(BaseModel):
    data: list[MethodOut]


class TaxRateList(BaseModel):
    data: list[TaxRateOut]
