"""Products and variants through the back office: what the shop, search (through the events) and the
audit trail see of each change."""

from __future__ import annotations

from tests.catalog.factories import (
    MERCHANDISER,
    MERCHANDISER_ID,
    create_product,
    idempotency_key,
    outbox_events,
    product_body,
)

EUR = "EUR"


async def _admin(catalog, product_id: str):
    response = await catalog.get(f"/admin/v1/products/{product_id}", headers=MERCHANDISER)
    assert response.status_code == 200, response.text
    return response


async def _patch(catalog, product_id: str, body: dict, *, etag: str | None):
    headers = MERCHANDISER | ({"If-Match": etag} if etag else {})
    return await catalog.patch(f"/admin/v1/products/{product_id}", json=body, headers=headers)


async def test_a_created_product_is_in_the_shop_published_and_audited(catalog):
    body = product_body(name="Linen Shirt", attributes={"material": "Linen"})
    created = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER)

    assert created.status_code == 201, created.text
    product = created.json()
    assert created.headers["location"] == f"/admin/v1/products/{product['id']}"
    assert created.headers["etag"] == (await _admin(catalog, product["id"])).headers["etag"]
    assert (product["status"], product["attributes"]) == ("active", {"material": "Linen"})
    assert [v["price"] for v in product["variants"]] == [
        {"amount": 1999, "currency": EUR},
        {"amount": 2099, "currency": EUR},
    ]
    shown = (await catalog.get(f"/api/v1/products/{body['slug']}")).json()
    assert (shown["name"], shown["properties"]) == ("Linen Shirt", {"material": "Linen"})
    assert [v["available"] for v in shown["variants"]] == [10, 10]

    [event] = await outbox_events(catalog, "ProductCreated")
    assert (event["aggregate_id"], event["payload"]["status"]) == (product["id"], "active")
    [audit] = await outbox_events(catalog, "StaffActionRecorded")
    assert audit["aggregate_type"] == "staff"
    assert audit["payload"] | {"occurred_at": None} == {
        "staff_id": MERCHANDISER_ID,
        "action": "product.create",
        "target_type": "product",
        "target_id": product["id"],
        "source_ip": "127.0.0.1",
        "service": "catalog",
        "details": {"slug": body["slug"], "status": "active", "variants": 2},
        "occurred_at": None,
    }


async def test_a_retried_create_with_its_idempotency_key_creates_one_product(catalog):
    body, key = product_body(), idempotency_key()
    first = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER | key)
    again = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER | key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(await outbox_events(catalog, "ProductCreated")) == 1
    other = await catalog.post("/admin/v1/products", json=product_body(), headers=MERCHANDISER | key)
    assert other.status_code == 409  # the same key for another product


async def test_invalid_products_are_422_with_an_error_per_field(catalog):
    body = {
        "slug": "Bad Slug!",
        "name": "",
        "brand": "B",
        "category": "tshirts",
        "variants": [{"sku": "lower-case", "price": {"amount": -1, "currency": "euro"}}],
        "colour": "red",
    }
    response = await catalog.post("/admin/v1/products", json=body, headers=MERCHANDISER)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {
        "slug",
        "name",
        "variants.0.sku",
        "variants.0.price.amount",
        "variants.0.price.currency",
        "colour",
    } <= set(response.json()["errors"])

    mixed = product_body(category="nope")
    mixed["variants"][1]["sku"] = mixed["variants"][0]["sku"]
    mixed["images"] = [{"name": "0" * 32 + ".png"}]
    response = await catalog.post("/admin/v1/products", json=mixed, headers=MERCHANDISER)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "category": "is not a known category",
        "variants.1.sku": "repeats the SKU of variants.0",
        "images.0.name": "is not an uploaded image",
    }
    assert await outbox_events(catalog) == []


async def test_a_taken_slug_or_sku_is_a_409_and_changes_nothing(catalog):
    product = await create_product(catalog)
    before = await outbox_events(catalog)
    same_slug = product_body()
    same_slug["slug"] = product["slug"]
    same_sku = product_body()
    same_sku["variants"][1]["sku"] = product["variants"][0]["sku"]

    slug_taken = await catalog.post("/admin/v1/products", json=same_slug, headers=MERCHANDISER)
    sku_taken = await catalog.post("/admin/v1/products", json=same_sku, headers=MERCHANDISER)

    assert (slug_taken.status_code, slug_taken.json()["errors"]) == (409, {"slug": "is taken"})
    assert (sku_taken.status_code, sku_taken.json()["errors"]) == (409, {"variants.1.sku": "is taken"})
    assert (await catalog.get(f"/api/v1/products/{same_sku['slug']}")).status_code == 404
    assert await outbox_events(catalog) == before


async def test_an_edit_is_published_whole_and_audited_with_what_changed(catalog):
    product = await create_product(catalog)
    read = await _admin(catalog, product["id"])

    edited = await _patch(
        catalog,
        product["id"],
        {"name": "Renamed Shirt", "category": "shoes", "attributes": {"fit": "Slim"}},
        etag=read.headers["etag"],
    )

    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] != read.headers["etag"]
    assert edited.headers["etag"] == (await _admin(catalog, product["id"])).headers["etag"]
    assert edited.json()["description"] == read.json()["description"]  # left out: left alone
    shown = (await catalog.get(f"/api/v1/products/{product['id']}")).json()
    assert (shown["name"], shown["category"]["slug"]) == ("Renamed Shirt", "shoes")
    [updated] = await outbox_events(catalog, "ProductUpdated")
    assert updated["payload"]["name"] == "Renamed Shirt"
    assert updated["payload"]["category_path"] == ["apparel", "shoes"]
    assert [v["sku"] for v in updated["payload"]["variants"]] == [v["sku"] for v in product["variants"]]
    [created] = await outbox_events(catalog, "ProductCreated")
    assert updated["payload"]["updated_at"] > created["payload"]["updated_at"]  # search orders by it
    audit = (await outbox_events(catalog, "StaffActionRecorded"))[-1]["payload"]
    assert (audit["action"], audit["target_id"]) == ("product.update", product["id"])
    assert audit["details"]["fields"] == "name,category,attributes"

    unchanged = await _patch(catalog, product["id"], {"name": "Renamed Shirt"}, etag=edited.headers["etag"])
    assert unchanged.status_code == 200 and unchanged.headers["etag"] == edited.headers["etag"]
    assert len(await outbox_events(catalog, "ProductUpdated")) == 1  # nothing changed: nothing to tell


async def test_an_edit_from_a_stale_read_is_refused_with_412_and_one_without_if_match_with_428(catalog):
    product = await create_product(catalog)
    stale = (await _admin(catalog, product["id"])).headers["etag"]
    first = await _patch(catalog, product["id"], {"description": "First edit."}, etag=stale)
    assert first.status_code == 200

    second = await _patch(catalog, product["id"], {"name": "Second edit"}, etag=stale)
    blind = await _patch(catalog, product["id"], {"name": "Blind edit"}, etag=None)

    assert second.status_code == 412 and second.json()["status"] == 412
    assert blind.status_code == 428
    assert (await _admin(catalog, product["id"])).json()["name"] == product["name"]
    assert len(await outbox_events(catalog, "ProductUpdated")) == 1


async def test_a_product_read_is_revalidated_with_its_etag(catalog):
    product = await create_product(catalog)
    first = await _admin(catalog, product["id"])
    assert first.headers["cache-control"] == "private, no-cache"
    by_slug = await catalog.get(
        f"/admin/v1/products/{product['slug']}",
        headers=MERCHANDISER | {"If-None-Match": first.headers["etag"]},
    )
    assert by_slug.status_code == 304 and by_slug.content == b""


async def test_null_for_a_field_that_cant_be_empty_is_refused(catalog):
    product = await create_product(catalog)
    etag = (await _admin(catalog, product["id"])).headers["etag"]
    response = await _patch(catalog, product["id"], {"name": None, "status": "gone"}, etag=etag)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "status"}


async def test_archiving_takes_a_product_out_of_the_shop_and_search_and_unarchiving_brings_it_back(catalog):
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]

    stale = (await _admin(catalog, product["id"])).headers["etag"]
    await _patch(catalog, product["id"], {"brand": "Otherbrand"}, etag=stale)
    refused = await catalog.post(
        f"/admin/v1/products/{product['id']}/archive", headers=MERCHANDISER | {"If-Match": stale}
    )
    assert refused.status_code == 412  # If-Match is optional here, but honoured when sent
    archived = await catalog.post(f"/admin/v1/products/{product['id']}/archive", headers=MERCHANDISER)
    again = await catalog.post(f"/admin/v1/products/{product['id']}/archive", headers=MERCHANDISER)

    assert (archived.status_code, archived.json()["status"]) == (200, "archived")
    assert again.status_code == 200
    assert (await catalog.get(f"/api/v1/products/{product['slug']}")).status_code == 404
    assert product["id"] not in [p["id"] for p in (await catalog.get("/api/v1/products")).json()["data"]]
    variants = (await catalog.get("/internal/variants", params={"sku": sku})).json()["variants"]
    assert variants == []  # carts can't buy it
    [_, event] = await outbox_events(catalog, "ProductUpdated")  # the repeat told nobody anything
    assert (event["aggregate_id"], event["payload"]["status"]) == (product["id"], "archived")
    listed = await catalog.get("/admin/v1/products", params={"status": "archived"}, headers=MERCHANDISER)
    assert [p["id"] for p in listed.json()["data"]] == [product["id"]]

    back = await catalog.post(f"/admin/v1/products/{product['id']}/unarchive", headers=MERCHANDISER)
    assert back.json()["status"] == "active"
    assert (await catalog.get(f"/api/v1/products/{product['slug']}")).status_code == 200
    assert [e["payload"]["status"] for e in await outbox_events(catalog, "ProductUpdated")] == [
        "active",
        "archived",
        "active",
    ]
    actions = [e["payload"]["action"] for e in await outbox_events(catalog, "StaffActionRecorded")]
    assert actions == ["product.create", "product.update", "product.archive", "product.unarchive"]


async def test_a_draft_stays_out_of_the_shop_until_it_is_made_active(catalog):
    draft = await create_product(catalog, status="draft")
    assert draft["status"] == "draft"
    assert (await catalog.get(f"/api/v1/products/{draft['slug']}")).status_code == 404
    [created] = await outbox_events(catalog, "ProductCreated")
    assert created["payload"]["status"] == "draft"  # search keeps it invisible

    unarchived = await catalog.post(f"/admin/v1/products/{draft['id']}/unarchive", headers=MERCHANDISER)
    assert unarchived.json()["status"] == "draft"  # only an archived product is brought back
    etag = (await _admin(catalog, draft["id"])).headers["etag"]
    assert (await _patch(catalog, draft["id"], {"status": "active"}, etag=etag)).status_code == 200
    assert (await catalog.get(f"/api/v1/products/{draft['slug']}")).status_code == 200


async def test_variants_are_added_and_changed_with_money_prices(catalog):
    product = await create_product(catalog, stock=4)
    etag = (await _admin(catalog, product["id"])).headers["etag"]
    added = await catalog.post(
        f"/admin/v1/products/{product['id']}/variants",
        json={
            "sku": "TS-NEW-L",
            "attributes": {"size": "L"},
            "price": {"amount": 2500, "currency": EUR},
            "stock": 3,
        },
        headers=MERCHANDISER | {"If-Match": etag},
    )
    assert added.status_code == 201, added.text
    assert [v["sku"] for v in added.json()["variants"]][-1] == "TS-NEW-L"

    repriced = await catalog.patch(
        f"/admin/v1/products/{product['id']}/variants/TS-NEW-L",
        json={"price": {"amount": 2200, "currency": EUR}},
        headers=MERCHANDISER | {"If-Match": added.headers["etag"]},
    )
    assert repriced.status_code == 200, repriced.text
    shown = {v["sku"]: v for v in (await catalog.get(f"/api/v1/products/{product['id']}")).json()["variants"]}
    assert (shown["TS-NEW-L"]["price"], shown["TS-NEW-L"]["available"]) == (
        {"amount": 2200, "currency": EUR},
        3,
    )
    snapshots = [e["payload"] for e in await outbox_events(catalog, "ProductUpdated")]
    assert [{v["sku"]: v["price"]["amount"] for v in s["variants"]}["TS-NEW-L"] for s in snapshots] == [
        2500,
        2200,
    ]
    audits = [e["payload"] for e in await outbox_events(catalog, "StaffActionRecorded")][1:]
    assert [(a["action"], a["target_type"], a["details"]["sku"]) for a in audits] == [
        ("variant.create", "variant", "TS-NEW-L"),
        ("variant.update", "variant", "TS-NEW-L"),
    ]
    assert audits[1]["details"]["fields"] == "prices"


async def test_a_deactivated_variant_is_no_longer_shown_or_sold(catalog):
    product = await create_product(catalog)
    small, medium = (v["sku"] for v in product["variants"])
    etag = (await _admin(catalog, product["id"])).headers["etag"]

    response = await catalog.patch(
        f"/admin/v1/products/{product['id']}/variants/{small}",
        json={"active": False},
        headers=MERCHANDISER | {"If-Match": etag},
    )

    assert response.status_code == 200
    assert [v["active"] for v in response.json()["variants"]] == [False, True]
    shown = (await catalog.get(f"/api/v1/products/{product['id']}")).json()
    assert [v["sku"] for v in shown["variants"]] == [medium]
    assert (await catalog.get("/internal/variants", params={"sku": small})).json()["variants"] == []
    [event] = await outbox_events(catalog, "ProductUpdated")
    assert [v["sku"] for v in event["payload"]["variants"]] == [medium]


async def test_variant_changes_that_would_confuse_shoppers_are_refused(catalog):
    product = await create_product(catalog)
    small, medium = (v["sku"] for v in product["variants"])
    etag = (await _admin(catalog, product["id"])).headers["etag"]
    headers = MERCHANDISER | {"If-Match": etag}

    same_attributes = await catalog.patch(
        f"/admin/v1/products/{product['id']}/variants/{small}",
        json={"attributes": {"size": "M"}},
        headers=headers,
    )
    taken_sku = await catalog.post(
        f"/admin/v1/products/{product['id']}/variants",
        json={"sku": medium, "attributes": {"size": "XL"}, "price": {"amount": 100, "currency": EUR}},
        headers=headers,
    )
    unknown = await catalog.patch(
        f"/admin/v1/products/{product['id']}/variants/NOPE", json={"active": False}, headers=headers
    )

    assert same_attributes.status_code == 409 and "attributes" in same_attributes.json()["errors"]
    assert taken_sku.status_code == 409
    assert unknown.status_code == 404
    assert await outbox_events(catalog, "ProductUpdated") == []


async def test_the_list_searches_filters_and_pages(catalog):
    lamp = await create_product(catalog, name="Reading Lamp", category="home")
    draft = await create_product(catalog, name="Secret Tee", status="draft")
    shirts = [await create_product(catalog, name=f"Plain Tee {i}") for i in range(3)]

    async def ids(**params) -> list[str]:
        response = await catalog.get("/admin/v1/products", params=params, headers=MERCHANDISER)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["data"]]

    assert await ids(q="lamp") == [lamp["id"]]
    assert await ids(q=lamp["variants"][0]["sku"].lower()) == [lamp["id"]]  # by SKU, any case
    assert await ids(q=draft["slug"]) == [draft["id"]]
    assert await ids(q="100%_") == []  # LIKE wildcards are searched for, not obeyed
    assert await ids(status="draft") == [draft["id"]]
    assert await ids(category="apparel") == [p["id"] for p in [*shirts[::-1], draft]]  # newest first
    unknown = await catalog.get("/admin/v1/products", params={"category": "nope"}, headers=MERCHANDISER)
    assert unknown.status_code == 422

    seen, cursor, cursors = [], None, []
    while True:
        params = {"limit": 2, "q": "tee"} | ({"cursor": cursor} if cursor else {})
        page = (await catalog.get("/admin/v1/products", params=params, headers=MERCHANDISER)).json()
        seen += [p["id"] for p in page["data"]]
        if not (cursor := page["next_cursor"]):
            break
        cursors.append(cursor)
    assert seen == [p["id"] for p in [*shirts[::-1], draft]]
    switched = await catalog.get(
        "/admin/v1/products", params={"limit": 2, "q": "lamp", "cursor": cursors[0]}, headers=MERCHANDISER
    )
    assert switched.status_code == 400  # a cursor belongs to its filters

    [item] = (await catalog.get("/admin/v1/products", params={"q": "lamp"}, headers=MERCHANDISER)).json()[
        "data"
    ]
    assert (item["variants"], item["available"], item["price_range"]["min"]["amount"]) == (2, 20, 1999)
