"""A postal address as every API takes it: the address book (customers) and shipping (orders)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Optional200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$")]


class PostalAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line
    line1: Line
    line2: Optional200 | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    country: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]  # ISO 3166-1 alpha-2
    phone: Phone | None = None
