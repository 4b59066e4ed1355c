"""Strict input at the orders API: a quantity is a JSON integer, not a string, a boolean or a float."""

from __future__ import annotations

import pytest

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS

NOT_AN_INTEGER = "must be an integer (a JSON number without a fraction, not a string or a boolean)"


@pytest.mark.parametrize("quantity", ["3", True, 3.0, "three", None])
async def test_a_quantity_that_is_not_an_integer_is_refused(shop, quantity):
    orders, catalog = shop
    sku = (await create_product(catalog))["variants"][0]["sku"]
    customer = {"x-mercato-customer-id": new_id("cus")}

    added = await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=customer)
    assert added.status_code == 422, added.text
    assert set(added.json()["errors"]) == {"quantity"}
    assert (await orders.get("/api/v1/cart", headers=customer)).json()["lines"] == []

    assert (await orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)).status_code == 200
    changed = await orders.patch(f"/api/v1/cart/items/{sku}", json={"quantity": quantity}, headers=customer)
    assert changed.status_code == 422
    assert (await orders.get("/api/v1/cart", headers=customer)).json()["lines"][0]["quantity"] == 1


async def test_the_error_says_what_a_quantity_must_be(shop):
    orders, catalog = shop
    sku = (await create_product(catalog))["variants"][0]["sku"]
    added = await orders.post(
        "/api/v1/cart/items",
        json={"sku": sku, "quantity": "3"},
        headers={"x-mercato-customer-id": new_id("cus")},
    )
    assert added.json()["errors"] == {"quantity": NOT_AN_INTEGER}


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({"name": "Ada\x00"}, "shipping_address.name"),
        ({"city": "London\r\nX-Injected: 1"}, "shipping_address.city"),
        ({"postal_code": 12345}, "shipping_address.postal_code"),
    ],
)
async def test_a_shipping_address_with_control_characters_or_wrong_types_is_refused(shop, address, field):
    orders, catalog = shop
    sku = (await create_product(catalog))["variants"][0]["sku"]
    customer = {"x-mercato-customer-id": new_id("cus")}
    assert (await orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)).status_code == 200
    body = {"shipping_address": ADDRESS | address, "payment_method": "pm_card_visa"}
    placed = await orders.post("/api/v1/checkout", json=body, headers=customer | {"Idempotency-Key": "k1"})
    assert placed.status_code == 422, placed.text
    assert set(placed.json()["errors"]) == {field}
