"""A postal address as every API takes it: the address book (customers) and shipping (orders)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from mercato.contracts.inputs import SINGLE_LINE, Input


def _line(*, min_length: int = 0, max_length: int) -> object:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Line = Annotated[str, _line(min_length=1, max_length=200), SINGLE_LINE]
Optional200 = Annotated[str, _line(max_length=200), SINGLE_LINE]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$")]


class PostalAddress(Input):
    """Every line is one line of text (no control characters); strict types, no unknown fields."""

    name: Line
    line1: Line
    line2: Optional200 | None = None
    city: Annotated[str, _line(min_length=1, max_length=100), SINGLE_LINE]
    postal_code: Annotated[str, _line(min_length=1, max_length=20), SINGLE_LINE]
    region: Annotated[str, _line(max_length=100), SINGLE_LINE] | None = None
    country: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]  # ISO 3166-1 alpha-2
    phone: Phone | None = None
