"""The browsing read model (browsing.py, documents.py): a product page or a page of the product list is one
SQL statement, answers byte for byte what the models would serialise from the database now, and every
change a shopper could see — price, stock, a reservation, variants, images, status, a category's name
or place — is in the very next read, with a new ETag."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import delete

from mercato.bench import metric_value
from mercato.services.catalog import browsing
from mercato.services.catalog import repository as repo
from mercato.services.catalog.main import build_app
from mercato.services.catalog.markets import market_ref
from mercato.services.catalog.models import Market, ProductDocument
from mercato.services.catalog.schemas import ProductPage, ProductSummary
from mercato.services.catalog.settings import CatalogSettings
from tests.catalog.factories import MERCHANDISER, add_categories, adjust, create_product, reserve
from tests.catalog.merchandising.test_images import _png, _upload

# What the design needs (docs/performance.md, "Browsing"): the stored parts and the live units available
# of a page, or of a page of the list, come back from one SELECT.
BUDGET = 1


async def _statements(catalog: httpx.AsyncClient) -> int:
    return int(metric_value((await catalog.get("/metrics")).text, "mercato_sql_statements_total"))


async def _counted(catalog: httpx.AsyncClient, path: str, **params) -> tuple[httpx.Response, int]:
    before = await _statements(catalog)
    response = await catalog.get(path, params=params)
    return response, await _statements(catalog) - before


def _market(catalog: httpx.AsyncClient, country: str | None = None) -> Market:
    return catalog.app.state.markets.for_country(country)


async def _fresh_page(catalog: httpx.AsyncClient, product_id: str, country: str | None = None) -> bytes:
    """The product page as the pydantic model serialises it from the database now."""
    async with catalog.app.state.db.read() as session:
        (product,) = await repo.products_by_ids(session, [product_id])
        loaded = await browsing.load_product(session, product)
    url = catalog.app.state.settings.image_base_url
    return browsing.detail_view(loaded, url, _market(catalog, country)).model_dump_json().encode()


async def _fresh_entries(
    catalog: httpx.AsyncClient, product_ids: list[str], country: str | None = None
) -> list[ProductSummary]:
    async with catalog.app.state.db.read() as session:
        loaded = await browsing.load_products(session, await repo.products_by_ids(session, product_ids))
    url, market = catalog.app.state.settings.image_base_url, _market(catalog, country)
    return [entry for product in loaded if (entry := browsing.summary_view(product, url, market))]


async def _admin(catalog: httpx.AsyncClient, method: str, path: str, **kwargs) -> httpx.Response:
    """A back-office change, with the If-Match of the product's current version where one is needed."""
    product_path = "/".join(path.split("/")[:5])  # /admin/v1/products/{id}
    etag = (await catalog.get(product_path, headers=MERCHANDISER)).headers["etag"]
    response = await catalog.request(method, path, headers=MERCHANDISER | {"If-Match": etag}, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response


async def _assert_current(catalog: httpx.AsyncClient, product: dict, old_etag: str) -> httpx.Response:
    """The page served is what the database says now, under a new ETag (the old one no longer a 304)."""
    page = await catalog.get(f"/api/v1/products/{product['slug']}")
    assert page.status_code == 200
    assert page.content == await _fresh_page(catalog, product["id"])
    assert page.headers["etag"] != old_etag
    again = await catalog.get(f"/api/v1/products/{product['slug']}", headers={"If-None-Match": old_etag})
    assert again.status_code == 200
    return page


async def test_a_page_and_a_list_page_are_each_one_statement(catalog):
    products = [await create_product(catalog, category=c) for c in ("tshirts", "tshirts", "shoes")]
    page, statements = await _counted(catalog, f"/api/v1/products/{products[0]['slug']}")
    assert page.status_code == 200 and statements <= BUDGET
    page, statements = await _counted(catalog, f"/api/v1/products/{products[0]['id']}")
    assert page.status_code == 200 and statements <= BUDGET
    for params in ({}, {"category": "apparel"}, {"category": "tops", "limit": 1}):
        listed, statements = await _counted(catalog, "/api/v1/products", **params)
        assert listed.status_code == 200 and listed.json()["data"], params
        assert statements <= BUDGET, (params, statements)
    second, statements = await _counted(
        catalog, "/api/v1/products", category="tops", limit=1, cursor=listed.json()["next_cursor"]
    )
    assert second.status_code == 200 and statements <= BUDGET
    assert [p["id"] for p in listed.json()["data"] + second.json()["data"]] == [p["id"] for p in products[:2]]


async def test_pages_and_list_entries_are_what_the_models_serialise(catalog):
    products = [await create_product(catalog, stock=n) for n in (0, 3)]
    for product in products:
        page = await catalog.get(f"/api/v1/products/{product['id']}")
        assert page.content == await _fresh_page(catalog, product["id"])
    listed = await catalog.get("/api/v1/products")
    expected = ProductPage(
        data=await _fresh_entries(catalog, [p["id"] for p in products]),
        next_cursor=None,
        market=market_ref(_market(catalog)),
    )
    assert listed.content == expected.model_dump_json().encode()
    assert [entry["available"] for entry in listed.json()["data"]] == [False, True]


async def test_a_price_change_is_in_the_next_read(catalog):
    product = await create_product(catalog, price=1500)
    etag = (await catalog.get(f"/api/v1/products/{product['slug']}")).headers["etag"]
    sku = product["variants"][0]["sku"]
    await _admin(
        catalog,
        "PATCH",
        f"/admin/v1/products/{product['id']}/variants/{sku}",
        json={"price": {"amount": 1200, "currency": "EUR"}},
    )
    page = await _assert_current(catalog, product, etag)
    assert page.json()["variants"][0]["price"] == {"amount": 1200, "currency": "EUR"}
    entry = (await catalog.get("/api/v1/products")).json()["data"][0]
    assert entry["price_range"]["min"] == {"amount": 1200, "currency": "EUR"}


async def test_stock_and_reservations_are_in_the_next_read(catalog):
    product = await create_product(catalog, stock=2)
    sku = product["variants"][0]["sku"]
    etag = (await catalog.get(f"/api/v1/products/{product['slug']}")).headers["etag"]

    assert (await adjust(catalog, sku, 3)).status_code in (200, 201)
    page = await _assert_current(catalog, product, etag)
    assert page.json()["variants"][0]["available"] == 5

    held = await reserve(catalog, lines=[(sku, 5), (product["variants"][1]["sku"], 2)])
    assert held.status_code == 201, held.text
    page = await _assert_current(catalog, product, page.headers["etag"])
    assert [v["available"] for v in page.json()["variants"]] == [0, 0] and page.json()["available"] is False
    assert (await catalog.get("/api/v1/products")).json()["data"][0]["available"] is False

    await catalog.post(f"/internal/reservations/{held.json()['id']}/release")
    page = await _assert_current(catalog, product, page.headers["etag"])
    assert page.json()["available"] is True


async def test_variants_images_and_fields_are_in_the_next_read(catalog):
    product = await create_product(catalog)
    etag = (await catalog.get(f"/api/v1/products/{product['slug']}")).headers["etag"]
    base = f"/admin/v1/products/{product['id']}"

    await _admin(
        catalog,
        "POST",
        f"{base}/variants",
        json={
            "sku": f"NEW-{uuid.uuid4().hex[:6].upper()}",
            "attributes": {"size": "L"},
            "price": {"amount": 2500, "currency": "EUR"},
            "stock": 1,
        },
    )
    page = await _assert_current(catalog, product, etag)
    assert page.json()["attributes"] == {"size": ["S", "M", "L"]}

    await _admin(catalog, "PATCH", f"{base}/variants/{product['variants'][0]['sku']}", json={"active": False})
    page = await _assert_current(catalog, product, page.headers["etag"])
    assert [v["attributes"]["size"] for v in page.json()["variants"]] == ["M", "L"]

    image = (await _upload(catalog, _png())).json()["name"]
    await _admin(
        catalog, "PATCH", base, json={"images": [{"name": image, "alt": "front"}], "name": "Renamed"}
    )
    page = await _assert_current(catalog, product, page.headers["etag"])
    assert page.json()["name"] == "Renamed" and page.json()["images"][0]["alt"] == "front"
    entry = (await catalog.get("/api/v1/products")).json()["data"][0]
    assert entry["name"] == "Renamed" and entry["image"]["url"].endswith(image)


async def test_archiving_takes_a_product_out_at_once_and_unarchiving_brings_it_back(catalog):
    product = await create_product(catalog)
    base = f"/admin/v1/products/{product['id']}"
    await _admin(catalog, "POST", f"{base}/archive")
    assert (await catalog.get(f"/api/v1/products/{product['slug']}")).status_code == 404
    assert (await catalog.get("/api/v1/products")).json()["data"] == []
    assert (await catalog.get("/api/v1/products", params={"category": "tshirts"})).json()["data"] == []
    await _admin(catalog, "POST", f"{base}/unarchive")
    assert (await catalog.get(f"/api/v1/products/{product['slug']}")).status_code == 200
    assert [p["id"] for p in (await catalog.get("/api/v1/products")).json()["data"]] == [product["id"]]


async def test_a_category_renamed_or_moved_is_in_the_next_read_of_every_product_under_it(catalog):
    shirt = await create_product(catalog, category="tshirts")
    etag = (await catalog.get(f"/api/v1/products/{shirt['slug']}")).headers["etag"]

    renamed = await catalog.patch(
        "/admin/v1/categories/tops", json={"name": "Upper wear"}, headers=MERCHANDISER
    )
    assert renamed.status_code == 200, renamed.text
    page = await _assert_current(catalog, shirt, etag)
    assert [c["name"] for c in page.json()["breadcrumbs"]] == ["Apparel", "Upper wear", "Tshirts"]

    moved = await catalog.patch("/admin/v1/categories/tops", json={"parent": "home"}, headers=MERCHANDISER)
    assert moved.status_code == 200, moved.text
    page = await _assert_current(catalog, shirt, page.headers["etag"])
    assert [c["slug"] for c in page.json()["breadcrumbs"]] == ["home", "tops", "tshirts"]
    assert (await catalog.get("/api/v1/products", params={"category": "apparel"})).json()["data"] == []
    home = (await catalog.get("/api/v1/products", params={"category": "home"})).json()["data"]
    assert [p["id"] for p in home] == [shirt["id"]]
    assert home[0]["category"]["name"] == "Tshirts"


async def test_answers_say_how_long_a_shared_cache_may_keep_them(catalog):
    product = await create_product(catalog)
    for path in (f"/api/v1/products/{product['slug']}", "/api/v1/products?limit=5", "/api/v1/categories"):
        assert (await catalog.get(path)).headers["cache-control"].startswith("public, max-age="), path
    page = await catalog.get(f"/api/v1/products/{product['slug']}")
    assert page.headers["cache-control"] == "public, max-age=1, must-revalidate"  # browse_max_age_seconds
    not_modified = await catalog.get(
        f"/api/v1/products/{product['slug']}", headers={"If-None-Match": page.headers["etag"]}
    )
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == page.headers["etag"]
    # An unknown parameter would be one more entry in a shared cache for the same answer.
    busted = await catalog.get(f"/api/v1/products/{product['slug']}", params={"nocache": "1"})
    assert busted.headers["cache-control"].startswith("private,") and busted.content == page.content


async def test_documents_missing_or_built_for_another_image_url_are_built_at_start(
    databases, backend, tmp_path
):
    url = await databases.fresh("catalog", backend)

    def settings(image_base_url: str) -> CatalogSettings:
        return CatalogSettings(
            environment="test",
            database_url=url,
            image_dir=tmp_path / "images",
            image_base_url=image_base_url,
            cursor_secret="test-cursor-secret",
            expiry_sweep_seconds=3600,
            sale_flip_seconds=3600,
        )

    app = build_app(settings("/api/v1/images"))
    async with app.router.lifespan_context(app):
        await add_categories(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://catalog"
        ) as client:
            image = (await _upload(client, _png())).json()["name"]
            product = await create_product(client, images=[{"name": image}])
        async with app.state.db.unit_of_work() as session:  # as if the migration had just added the table
            await session.execute(delete(ProductDocument))

    app = build_app(settings("https://cdn.example.com/images"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog") as client,
    ):
        page = (await client.get(f"/api/v1/products/{product['slug']}")).json()
    assert page["images"][0]["url"] == f"https://cdn.example.com/images/{image}"
