"""Strict input at the catalog's back office and private APIs: stock, prices and quantities are JSON
integers, flags booleans, names one line, currencies ISO 4217."""

from __future__ import annotations

import pytest

from tests.catalog.factories import MERCHANDISER, create_product, idempotency_key, product_body, reserve


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Shirt\x00"}, "name"),
        ({"name": "Shirt\r\nSet-Cookie: x"}, "name"),
        ({"brand": "Brand\u2028Two"}, "brand"),
        ({"description": "Soft\x00cotton"}, "description"),
        ({"attributes": {"material": "Cotton\n"}}, None),  # trailing whitespace is trimmed: fine
        ({"attributes": {"material": "Cot\nton"}}, "attributes.material"),
    ],
)
async def test_product_text_with_control_characters_is_refused(catalog, change, field):
    body = product_body() | change
    response = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER | idempotency_key())
    if field is None:
        assert response.status_code == 201, response.text
        return
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}


async def test_a_description_may_span_lines(catalog):
    body = product_body() | {"description": "Soft cotton.\r\n\r\n\tMachine washable."}
    response = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER | idempotency_key())
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("variant", "field"),
    [
        ({"stock": "10"}, "variants.0.stock"),
        ({"stock": True}, "variants.0.stock"),
        ({"active": 0}, "variants.0.active"),
        ({"price": {"amount": "1999", "currency": "EUR"}}, "variants.0.price.amount"),
        ({"price": {"amount": 19.99, "currency": "EUR"}}, "variants.0.price.amount"),
        ({"price": {"amount": 1999, "currency": "XXX"}}, "variants.0.price.currency"),
        ({"price": {"amount": 1999, "currency": "XAU"}}, "variants.0.price.currency"),
    ],
)
async def test_variants_of_the_wrong_type_or_currency_are_refused(catalog, variant, field):
    body = product_body()
    body["variants"] = [body["variants"][0] | variant]
    response = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER | idempotency_key())
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}


@pytest.mark.parametrize("quantity", ["2", True, 2.0])
async def test_a_reservation_quantity_must_be_an_integer(catalog, quantity):
    sku = (await create_product(catalog))["variants"][0]["sku"]
    response = await catalog.post(
        "/internal/reservations", json={"key": "ord_1", "lines": [{"sku": sku, "quantity": quantity}]}
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {"lines.0.quantity"}
    assert (await reserve(catalog, lines=[(sku, 2)])).status_code == 201


async def test_an_inventory_adjustment_must_be_an_integer(catalog):
    sku = (await create_product(catalog))["variants"][0]["sku"]
    response = await catalog.post(
        f"/admin/v1/inventory/{sku}/adjustments",
        json={"delta": "5", "reason": "received"},
        headers=MERCHANDISER | idempotency_key(),
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {"delta"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/%00",
        "/api/v1/products/tee%00",
        "/api/v1/products?category=%00",
        "/internal/reservations/%00",
        "/admin/v1/products?q=a%00b",
    ],
)
async def test_a_nul_in_the_path_or_query_is_a_malformed_request_not_a_database_error(catalog, path):
    """PostgreSQL cannot compare text with a NUL: before, a 500 there (a 404 on SQLite)."""
    response = await catalog.get(path, headers=MERCHANDISER)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/malformed-request")
    assert (await catalog.get("/api/v1/products/no-such-product")).status_code == 404  # others unchanged
