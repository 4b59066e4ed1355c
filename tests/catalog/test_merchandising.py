"""Creating products and adjusting stock (the admin app's routes, on the catalog's private port)."""

from __future__ import annotations

from tests.catalog.factories import create_product, reserve


async def test_a_created_product_is_browsable(catalog):
    product = await create_product(catalog, name="Linen Shirt")
    page = await catalog.get(f"/api/v1/products/{product['slug']}")
    assert page.json()["name"] == "Linen Shirt"


async def test_duplicate_slugs_and_skus_are_conflicts_and_change_nothing(catalog):
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]
    body = {
        "slug": "another",
        "name": "Another",
        "brand": "B",
        "category": "tshirts",
        "variants": [{"sku": sku, "price_amount": 100}],
    }
    assert (await catalog.post("/admin/v1/products", json=body)).status_code == 409
    assert (await catalog.get("/api/v1/products/another")).status_code == 404


async def test_invalid_products_are_rejected_with_field_errors(catalog):
    body = {
        "slug": "Bad Slug!",
        "name": "",
        "brand": "B",
        "category": "nope",
        "variants": [{"sku": "lower-case", "price_amount": -1}],
        "colour": "red",
    }
    response = await catalog.post("/admin/v1/products", json=body)
    assert response.status_code == 422
    assert {"slug", "name", "variants.0.sku", "variants.0.price_amount", "colour"} <= set(
        response.json()["errors"]
    )


async def test_stock_adjustments_respect_reservations(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    await reserve(catalog, lines=[(sku, 3)])
    response = await catalog.post(
        f"/admin/v1/inventory/{sku}/adjustments", json={"delta": 10, "reason": "delivery"}
    )
    assert response.json() == {"sku": sku, "on_hand": 15, "reserved": 3, "available": 12}
    too_far = await catalog.post(
        f"/admin/v1/inventory/{sku}/adjustments", json={"delta": -13, "reason": "count"}
    )
    assert too_far.status_code == 409
    missing = await catalog.post("/admin/v1/inventory/NOPE/adjustments", json={"delta": 1, "reason": "x"})
    assert missing.status_code == 404
