"""Strict input at the customers API: wrong JSON types, control characters and unknown currencies are a
422 naming the field — never coerced, stored, or a 500 from the database."""

from __future__ import annotations

import pytest

from tests.customers.factories import ADDRESS, PASSWORD, as_customer, register

NAMES_THAT_ARE_NOT_ONE_LINE = ["Ada\x00Lovelace", "Ada\r\nBcc: everyone", "Ada\nLovelace", "Ada\x1b[31m"]


@pytest.mark.parametrize("name", NAMES_THAT_ARE_NOT_ONE_LINE)
async def test_a_name_with_control_characters_is_refused(customers, name):
    response = await customers.post(
        "/api/v1/customers", json={"email": "ada@example.com", "password": PASSWORD, "name": name}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {"name": "must be a single line of text, without control characters"}

    customer = await register(customers)
    me = as_customer(customer["id"])
    renamed = await customers.patch("/api/v1/me", headers=me, json={"name": name})
    assert renamed.status_code == 422 and set(renamed.json()["errors"]) == {"name"}
    address = await customers.post("/api/v1/me/addresses", headers=me, json=ADDRESS | {"line1": name})
    assert address.status_code == 422 and set(address.json()["errors"]) == {"line1"}
    assert (await customers.get("/api/v1/me", headers=me)).json()["name"] == customer["name"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"communication": {"sms": 1}}, "communication.sms"),
        ({"communication": {"email": "false"}}, "communication.email"),
        ({"preferences": {"newsletter": 0}}, "preferences.newsletter"),
        ({"preferences": {"currency": "XXX"}}, "preferences.currency"),
        ({"preferences": {"currency": "XTS"}}, "preferences.currency"),
        ({"preferences": {"currency": "ABC"}}, "preferences.currency"),
    ],
)
async def test_profile_changes_of_the_wrong_type_or_currency_are_refused(customers, body, field):
    customer = await register(customers)
    response = await customers.patch("/api/v1/me", headers=as_customer(customer["id"]), json=body)
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}


async def test_a_default_address_flag_must_be_a_boolean(customers):
    customer = await register(customers)
    response = await customers.post(
        "/api/v1/me/addresses", headers=as_customer(customer["id"]), json=ADDRESS | {"is_default": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "is_default": "must be true or false (a JSON boolean, not a number or a string)"
    }


async def test_an_active_currency_and_a_multi_line_free_text_are_fine(customers):
    customer = await register(customers, name="Zoë Ñandú-Müller")
    me = as_customer(customer["id"])
    response = await customers.patch("/api/v1/me", headers=me, json={"preferences": {"currency": "JPY"}})
    assert response.status_code == 200, response.text
    assert response.json()["preferences"]["currency"] == "JPY"
