"""CSV export: the import's format, so a file exported, edited and imported again says only what changed."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from mercato.services.catalog.main import build_app
from mercato.services.catalog.seed import seed_demo_catalog
from mercato.services.catalog.settings import CatalogSettings
from tests.catalog.factories import (
    MERCHANDISER,
    count_products,
    create_product,
    csv_file,
    csv_row,
    import_csv,
    outbox_events,
)


async def _export(client, **params) -> httpx.Response:
    response = await client.get("/admin/v1/products/export.csv", params=params, headers=MERCHANDISER)
    assert response.status_code == 200, response.text
    return response


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
async def demo_shop(databases, backend, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog app with the whole demo catalog seeded (228 products, every kind of variant)."""
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", backend),
        image_dir=tmp_path / "images",
        cursor_secret="test-cursor-secret",
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await seed_demo_catalog(app.state.db, app.state.images)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_the_whole_demo_catalog_exported_and_imported_again_is_unchanged(demo_shop):
    exported = await _export(demo_shop)
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    rows = _rows(exported)
    products = await count_products(demo_shop)
    assert len({row["product_slug"] for row in rows}) == products
    shirt = next(row for row in rows if row["product_slug"] == "classic-cotton-t-shirt")
    assert shirt["price_eur"].count(".") == 1 and shirt["images"].endswith(".svg")
    assert shirt["price_gbp"].endswith(".99") and shirt["price_usd"].endswith(".99")
    assert shirt["tax_class"] == "standard" and int(shirt["weight_grams"]) > 0
    events = await outbox_events(demo_shop)

    again = await import_csv(demo_shop, exported.content, filename="export.csv")

    assert again.status_code == 201, again.text[:2000]
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, products)
    assert again.json()["variants"] == {"created": 0, "updated": 0, "unchanged": len(rows)}
    assert [e["type"] for e in (await outbox_events(demo_shop))[len(events) :]] == ["StaffActionRecorded"]
    assert (await _export(demo_shop)).content == exported.content


async def test_an_exported_file_edited_and_imported_changes_exactly_the_edits(demo_shop):
    rows = _rows(await _export(demo_shop, category="women-tshirts"))
    assert {row["category_slug"] for row in rows} == {"women-tshirts"}
    slug = rows[0]["product_slug"]
    edited = [row | {"price_gbp": "99.00"} if row["sku"] == rows[0]["sku"] else row for row in rows]
    events = await outbox_events(demo_shop)

    response = await import_csv(demo_shop, csv_file(edited, columns=list(rows[0])))

    assert response.status_code == 201, response.text
    assert (response.json()["updated"], response.json()["variants"]["updated"]) == (1, 1)
    [updated] = await outbox_events(demo_shop, "ProductUpdated")
    assert updated["payload"]["slug"] == slug
    assert len(await outbox_events(demo_shop)) == len(events) + 2  # that product, and the audit entry


async def test_the_export_follows_the_lists_filters(catalog):
    draft = await create_product(catalog, name="Quiet Draft", status="draft")
    mug = await create_product(catalog, name="Loud Mug", category="home")
    await create_product(catalog, name="Loud Tee")

    def slugs(response) -> list[str]:
        return sorted({row["product_slug"] for row in _rows(response)})

    assert slugs(await _export(catalog, status="draft")) == [draft["slug"]]
    assert slugs(await _export(catalog, category="home")) == [mug["slug"]]
    assert len(slugs(await _export(catalog, q="loud"))) == 2
    unknown = await catalog.get(
        "/admin/v1/products/export.csv", params={"category": "nope"}, headers=MERCHANDISER
    )
    assert unknown.status_code == 422


async def test_what_a_spreadsheet_would_run_as_a_formula_is_exported_inert_and_imported_intact(catalog):
    product_columns = {"product_name": '=HYPERLINK("http://evil.example")', "description": "-5 % off"}
    rows = [
        csv_row(sku="F-1", size="+1", active="false", **product_columns),
        csv_row(sku="F-2", size="@2", **product_columns),
    ]
    assert (await import_csv(catalog, csv_file(rows))).status_code == 201
    product = (await catalog.get("/admin/v1/products/import-tee", headers=MERCHANDISER)).json()
    assert (product["name"], product["description"]) == ('=HYPERLINK("http://evil.example")', "-5 % off")
    assert [(v["attributes"]["size"], v["active"]) for v in product["variants"]] == [
        ("+1", False),
        ("@2", True),
    ]

    exported = await _export(catalog)
    assert [(row["product_name"], row["description"], row["size"]) for row in _rows(exported)] == [
        ('\'=HYPERLINK("http://evil.example")', "'-5 % off", "'+1"),
        ('\'=HYPERLINK("http://evil.example")', "'-5 % off", "'@2"),
    ]
    again = await import_csv(catalog, exported.content)
    assert (again.json()["unchanged"], again.json()["variants"]["unchanged"]) == (1, 2)
