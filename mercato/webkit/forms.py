"""Forms both front ends build the same way. A form shows people our own words: the fields it requires,
and a message per field in plain language — for what we check before calling the API, and for a field
the API still refuses (its validator's text, "String should match pattern …", is never shown).

The postal address form lives here too, as every API takes it (`mercato.contracts.addresses`): the
shop's checkout and address book use it, and the back office can."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mercato.webkit.countries import NAMES

PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # what the APIs refuse in a line of text
ONE_LINE = "Please keep this to one line of plain text (no tabs or line breaks)."


@dataclass(frozen=True)
class Field:
    label: str
    required: bool
    max_length: int
    message: str  # what to do when it is missing or not right


ADDRESS: dict[str, Field] = {
    "name": Field("Full name", True, 200, "Please enter the full name of the person receiving it."),
    "line1": Field("Address", True, 200, "Please enter the street and house number."),
    "line2": Field("Address line 2", False, 200, "Please keep address line 2 under 200 characters."),
    "postal_code": Field("Postal code", True, 20, "Please enter the postal code (up to 20 characters)."),
    "city": Field("City", True, 100, "Please enter the town or city."),
    "region": Field(
        "State / region", False, 100, "Please enter the state as its two-letter code (e.g. NY) in the US."
    ),
    "country": Field("Country", True, 2, "Please choose a country from the list."),
    "phone": Field(
        "Phone", False, 16, "Please enter a phone number in international format, e.g. +49 30 1234567."
    ),
}
ADDRESS_FIELDS = tuple(ADDRESS)


def text(form: Any, name: str, limit: int = 1024) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def read_address(form: Any, prefix: str = "") -> dict[str, str]:
    """The address fields as posted (trimmed; the country code in capitals), every field present;
    `prefix`: a second address in the same form (`billing_name`, …)."""
    values = {name: text(form, prefix + name, 300) for name in ADDRESS_FIELDS}
    values["country"] = values["country"].upper()
    values["phone"] = re.sub(r"[\s().-]", "", values["phone"])  # "+49 (30) 123-4567" is E.164 underneath
    return values


def address_errors(values: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with an address, field by field, in the shopper's words; {} when nothing is."""
    errors: dict[str, str] = {}
    for name, spec in ADDRESS.items():
        value = values.get(name) or ""
        if (spec.required and not value) or len(value) > spec.max_length:
            errors[name] = spec.message
        elif CONTROL.search(value):
            errors[name] = ONE_LINE
    if values.get("country") and values["country"] not in NAMES:
        errors["country"] = ADDRESS["country"].message
    if values.get("phone") and not PHONE.match(values["phone"]):
        errors["phone"] = ADDRESS["phone"].message
    return errors


def address_body(values: Mapping[str, str]) -> dict[str, str]:
    """The address as the API takes it: the fields that were filled in."""
    return {name: values[name] for name in ADDRESS_FIELDS if values.get(name)}


def human_errors(api_errors: Any, messages: Mapping[str, str], fallback: str) -> dict[str, str]:
    """An API's field errors (problem+json `errors`, e.g. {"shipping_address.country": "String should
    match pattern …"}) as our own message for each field we show, keyed by field name; anything else
    is said once, under "", as `fallback`. The API's own wording never reaches the page."""
    out: dict[str, str] = {}
    for path in api_errors if isinstance(api_errors, Mapping) else ():
        name = str(path).rsplit(".", 1)[-1]
        if name in messages:
            out[name] = messages[name]
        else:
            out[""] = fallback
    return out


ADDRESS_MESSAGES = {name: spec.message for name, spec in ADDRESS.items()}
