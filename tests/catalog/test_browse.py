"""Public browsing: categories, product lists and product pages, as the storefront uses them."""

from __future__ import annotations

from tests.catalog.factories import create_product, reserve


async def test_categories_come_as_a_nested_tree(catalog):
    response = await catalog.get("/api/v1/categories")
    assert response.status_code == 200
    roots = {c["slug"]: c for c in response.json()["data"]}
    assert set(roots) == {"apparel", "home"}
    tops = next(c for c in roots["apparel"]["children"] if c["slug"] == "tops")
    assert [c["slug"] for c in tops["children"]] == ["tshirts"]


async def test_product_list_pages_through_everything_once(catalog):
    created = [await create_product(catalog) for _ in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await catalog.get("/api/v1/products", params=params)).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [p["id"] for p in created]


async def test_a_category_lists_its_sub_categories_products(catalog):
    shirt = await create_product(catalog, category="tshirts")
    shoe = await create_product(catalog, category="shoes")
    mug = await create_product(catalog, category="home")

    def ids(response):
        return {p["id"] for p in response.json()["data"]}

    assert ids(await catalog.get("/api/v1/products", params={"category": "apparel"})) == {
        shirt["id"],
        shoe["id"],
    }
    assert ids(await catalog.get("/api/v1/products", params={"category": "home"})) == {mug["id"]}
    unknown = await catalog.get("/api/v1/products", params={"category": "no-such-category"})
    assert unknown.status_code == 404


async def test_list_items_carry_price_range_availability_and_an_image_url(catalog):
    product = await create_product(catalog, price=1500, stock=1)
    item = (await catalog.get("/api/v1/products")).json()["data"][0]
    assert item["price_range"] == {
        "min": {"amount": 1500, "currency": "EUR"},
        "max": {"amount": 1600, "currency": "EUR"},
    }
    assert item["available"] is True
    for variant in product["variants"]:
        await reserve(catalog, lines=[(variant["sku"], 1)])
    item = (await catalog.get("/api/v1/products")).json()["data"][0]
    assert item["available"] is False  # everything is held by orders in progress


async def test_product_page_by_id_or_slug_with_variants_and_stock(catalog):
    product = await create_product(catalog, stock=4)
    by_slug = (await catalog.get(f"/api/v1/products/{product['slug']}")).json()
    by_id = (await catalog.get(f"/api/v1/products/{product['id']}")).json()
    assert by_slug == by_id
    assert [v["available"] for v in by_slug["variants"]] == [4, 4]
    assert by_slug["attributes"] == {"size": ["S", "M"]}
    assert [c["slug"] for c in by_slug["breadcrumbs"]] == ["apparel", "tops", "tshirts"]


async def test_etag_lets_clients_revalidate_without_a_body(catalog):
    product = await create_product(catalog, stock=4)
    first = await catalog.get(f"/api/v1/products/{product['slug']}")
    etag = first.headers["etag"]
    cached = await catalog.get(f"/api/v1/products/{product['slug']}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""

    await reserve(catalog, lines=[(product["variants"][0]["sku"], 1)])  # availability changed
    changed = await catalog.get(f"/api/v1/products/{product['slug']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    listing = await catalog.get("/api/v1/categories")
    assert (
        await catalog.get("/api/v1/categories", headers={"If-None-Match": listing.headers["etag"]})
    ).status_code == 304


async def test_bad_browsing_input_is_a_clear_4xx(catalog):
    await create_product(catalog)
    cases = {
        "/api/v1/products?limit=0": 422,
        "/api/v1/products?limit=101": 422,
        "/api/v1/products?limit=ten": 422,
        "/api/v1/products?cursor=not-a-cursor": 400,
        "/api/v1/products?cursor=%7D.%F0%B8%8E%8E": 400,  # not ASCII: was a 500 (found by schemathesis)
        "/api/v1/products?cursor=" + "A" * 600: 422,
        "/api/v1/products/no-such-product": 404,
        "/api/v1/images/0123456789abcdef0123456789abcdef.svg": 404,
        "/api/v1/images/..%2F..%2Fetc%2Fpasswd": 404,
    }
    for path, status in cases.items():
        response = await catalog.get(path)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_tampered_cursor_or_one_from_another_listing_is_rejected(catalog):
    for _ in range(3):
        await create_product(catalog, category="tshirts")
    cursor = (await catalog.get("/api/v1/products", params={"limit": 1})).json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert (await catalog.get("/api/v1/products", params={"cursor": tampered})).status_code == 400
    other = await catalog.get("/api/v1/products", params={"cursor": cursor, "category": "home"})
    assert other.status_code == 400
