"""Who may use the back office: merchandising changes the catalog; support and operations may look
but not touch; nobody gets in without a staff token with a verified second factor."""

from __future__ import annotations

import pytest

from mercato.platform.ids import new_id
from tests.catalog.factories import (
    create_product,
    idempotency_key,
    outbox_events,
    product_body,
    staff_headers,
)

SUPPORT = staff_headers(roles=("support",))
OPERATIONS = staff_headers(roles=("operations",))
ADMIN_ID = new_id("stf")
ADMIN = staff_headers(roles=("admin",), staff_id=ADMIN_ID)


async def test_support_cannot_create_or_edit_a_product_and_nothing_happens(catalog):
    product = await create_product(catalog)
    before = await outbox_events(catalog)

    created = await catalog.post("/admin/v1/products", json=product_body(), headers=SUPPORT)
    read = await catalog.get(f"/admin/v1/products/{product['id']}", headers=SUPPORT)
    edited = await catalog.patch(
        f"/admin/v1/products/{product['id']}",
        json={"name": "Hijacked"},
        headers=SUPPORT | {"If-Match": read.headers["etag"]},
    )
    archived = await catalog.post(f"/admin/v1/products/{product['id']}/archive", headers=SUPPORT)

    assert (created.status_code, edited.status_code, archived.status_code) == (403, 403, 403)
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["status"] == 403
    assert (await catalog.get(f"/api/v1/products/{product['id']}")).json()["name"] == product["name"]
    assert await outbox_events(catalog) == before


@pytest.mark.parametrize(
    "headers",
    [{}, staff_headers(mfa=False), {"x-mercato-staff-claims": "not base64 json"}],
    ids=["no staff claims", "no second factor", "garbage claims"],
)
async def test_without_a_verified_staff_token_everything_is_401(catalog, headers):
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]
    requests = [
        ("GET", "/admin/v1/products", None),
        ("POST", "/admin/v1/products", product_body()),
        ("GET", f"/admin/v1/products/{product['id']}", None),
        ("PATCH", f"/admin/v1/products/{product['id']}", {"name": "X"}),
        ("GET", f"/admin/v1/inventory/{sku}", None),
        ("POST", f"/admin/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received"}),
        ("GET", "/admin/v1/categories", None),
        ("GET", "/admin/v1/product-imports", None),
        ("GET", "/admin/v1/products/export.csv", None),
    ]
    for method, path, body in requests:
        response = await catalog.request(method, path, json=body, headers=headers | idempotency_key())
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["status"] == 401


async def test_support_and_operations_read_products_categories_and_stock_but_not_the_csv_tools(catalog):
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]
    for reader in (SUPPORT, OPERATIONS):
        assert (await catalog.get("/admin/v1/products", headers=reader)).status_code == 200
        assert (await catalog.get(f"/admin/v1/products/{product['id']}", headers=reader)).status_code == 200
        assert (await catalog.get("/admin/v1/categories", headers=reader)).status_code == 200
        assert (await catalog.get(f"/admin/v1/inventory/{sku}", headers=reader)).status_code == 200
        assert (await catalog.get("/admin/v1/products/export.csv", headers=reader)).status_code == 403
        assert (await catalog.get("/admin/v1/product-imports", headers=reader)).status_code == 403
        adjusted = await catalog.post(
            f"/admin/v1/inventory/{sku}/adjustments",
            json={"delta": 1, "reason": "received"},
            headers=reader | idempotency_key(),
        )
        assert adjusted.status_code == 403
        category = await catalog.post(
            "/admin/v1/categories", json={"slug": "sneaky", "name": "Sneaky"}, headers=reader
        )
        assert category.status_code == 403


async def test_an_admin_may_do_what_merchandising_does(catalog):
    created = await catalog.post("/admin/v1/products", json=product_body(), headers=ADMIN)
    assert created.status_code == 201, created.text
    [audit] = await outbox_events(catalog, "StaffActionRecorded")
    assert (audit["payload"]["staff_id"], audit["payload"]["target_id"]) == (ADMIN_ID, created.json()["id"])
