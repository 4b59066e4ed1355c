"""The input rules of docs/api.md: what the shared types accept, and that every JSON request body of
every service — public, back office, private — is built from them."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from typing import Annotated, Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, StringConstraints, ValidationError

import mercato.services
from mercato.contracts.currencies import MINOR_UNITS
from mercato.contracts.inputs import SINGLE_LINE, Input, Text
from mercato.contracts.money import MoneyIn

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), SINGLE_LINE]


class Example(Input):
    name: Name
    note: Text = ""
    quantity: int = 1
    flag: bool = False


def _refused(**fields: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        Example.model_validate({"name": "Ada"} | fields)
    [error] = refused.value.errors()
    return error["type"]


@pytest.mark.parametrize("quantity", ["3", True, 3.0, None])
def test_an_integer_is_a_json_integer(quantity):
    assert _refused(quantity=quantity) == "int_type"


@pytest.mark.parametrize("flag", [0, 1, "true", "yes", None])
def test_a_boolean_is_a_json_boolean(flag):
    assert _refused(flag=flag) == "bool_type"


@pytest.mark.parametrize(
    "name", ["A\x00b", "A\rb", "A\nb", "A\tb", "A\x1bb", "A\x7fb", "A\x85b", "A\u2028b", "A\u2029b"]
)
def test_a_single_line_has_no_control_characters(name):
    assert _refused(name=name) == "single_line"


@pytest.mark.parametrize("note", ["a\x00", "a\x0bb", "a\x1bb", "a\x9bb"])
def test_text_has_no_control_characters_but_line_breaks_and_tabs(note):
    assert _refused(note=note) == "text_control_character"
    assert Example.model_validate({"name": " Zoë \n", "note": "a\r\n\tb"}).name == "Zoë"


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "XDR", "BOV", "HRK", "eur", "EURO", ""])
def test_only_active_iso_4217_currencies_are_money(currency):
    with pytest.raises(ValidationError):
        MoneyIn.model_validate({"amount": 100, "currency": currency})


def test_the_currency_table_knows_minor_units():
    assert (MINOR_UNITS["EUR"], MINOR_UNITS["JPY"], MINOR_UNITS["KWD"], MINOR_UNITS["XOF"]) == (2, 0, 3, 0)
    assert len(MINOR_UNITS) > 150


# --- every service's request bodies ------------------------------------------------------------------


def _routes() -> list[APIRoute]:
    routes = []
    for module in pkgutil.walk_packages(mercato.services.__path__, "mercato.services."):
        if module.name.rsplit(".", 1)[-1] == "api":
            for value in vars(importlib.import_module(module.name)).values():
                if isinstance(value, APIRouter):
                    routes += [r for r in value.routes if isinstance(r, APIRoute) and r.body_field]
    return routes


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        nested = [m for f in annotation.model_fields.values() for m in _models(f.annotation)]
        return [annotation, *nested]
    return [m for argument in typing.get_args(annotation) for m in _models(argument)]


JSON_BODIES = [
    model
    for route in _routes()
    for model in _models(route.body_field.field_info.annotation)
    if not model.__module__.startswith("fastapi")  # multipart uploads: a file, not JSON
]
# Never stored nor shown: anything may be in a password.
FREE_STRINGS = {"password", "new_password", "current_password"}


def test_the_request_bodies_are_found():
    names = {model.__name__ for model in JSON_BODIES}
    assert {"RegisterIn", "CartItemIn", "CheckoutIn", "PaymentIn", "ProductIn", "ReservationIn"} <= names


@pytest.mark.parametrize("model", sorted(set(JSON_BODIES), key=str), ids=str)
def test_every_request_body_is_strict_and_every_string_constrained(model):
    assert model.model_config.get("strict") is True, "derive it from mercato.contracts.inputs.Input"
    assert model.model_config.get("extra") == "forbid"
    schema = model.model_json_schema(mode="validation")
    loose = [
        name
        for name, prop in schema["properties"].items()
        for option in prop.get("anyOf", [prop])
        for string in [option, option.get("items", {}), option.get("additionalProperties") or {}]
        if isinstance(string, dict) and string.get("type") == "string" and name not in FREE_STRINGS
        if not {"pattern", "enum", "format", "const"} & set(string)
    ]
    assert loose == [], f"strings that take control characters: {loose} (use SINGLE_LINE or TEXT)"
