"""What the catalog reads back from its database carries its UTC offset (date-time)."""

from __future__ import annotations

from tests.catalog.factories import MERCHANDISER, create_product, reserve
from tests.timestamps import assert_utc


async def test_products_and_reservations_answer_utc_timestamps(catalog):
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]
    reserved = await reserve(catalog, lines=[(sku, 1)])
    assert reserved.status_code == 201, reserved.text

    assert_utc((await catalog.get(f"/api/v1/products/{product['id']}")).json(), "updated_at")
    admin = await catalog.get(f"/admin/v1/products/{product['id']}", headers=MERCHANDISER)
    assert_utc(admin.json(), "created_at", "updated_at")
    assert_utc((await catalog.get("/admin/v1/products", headers=MERCHANDISER)).json(), "data.0.updated_at")
    assert_utc((await catalog.get(f"/internal/reservations/{reserved.json()['id']}")).json(), "expires_at")
