"""Catalog events: staged in the outbox by the very transaction that changes a product or its stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from mercato.platform.tables import outbox
from mercato.services.catalog.main import build_app
from mercato.services.catalog.models import Reservation
from mercato.services.catalog.seed import seed_demo_catalog
from mercato.services.catalog.service import expire_due
from mercato.services.catalog.settings import CatalogSettings
from tests.catalog.factories import MERCHANDISER, adjust, available, create_product, reserve


async def _events(client, event_type: str | None = None) -> list[dict]:
    """Outbox rows in the order they were staged, as {type, aggregate_type, aggregate_id, envelope}."""
    async with client.app.state.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [
        {
            "type": row["event_type"],
            "aggregate_type": row["aggregate_type"],
            "aggregate_id": row["aggregate_id"],
            "envelope": row["envelope"],
            "payload": row["envelope"]["payload"],
        }
        for row in rows
        if event_type is None or row["event_type"] == event_type
    ]


async def _adjust(client, sku: str, delta: int):
    return await adjust(client, sku, delta, reason="count")


async def test_a_created_product_is_published_whole_with_its_category_path(catalog):
    product = await create_product(catalog, price=2500, stock=7)

    [event] = await _events(catalog, "ProductCreated")
    assert event["type"] == "ProductCreated"
    assert (event["aggregate_type"], event["aggregate_id"]) == ("product", product["id"])
    assert event["envelope"]["type"] == "ProductCreated" and event["envelope"]["version"] == 1
    payload = event["payload"]
    assert payload["product_id"] == product["id"] and payload["slug"] == product["slug"]
    assert payload["category_path"] == ["apparel", "tops", "tshirts"]  # root to leaf
    assert payload["category_id"] == product["category"]["id"]
    assert payload["status"] == "active"
    assert payload["image_url"] is None
    assert [(v["sku"], v["price"], v["available"], v["attributes"]) for v in payload["variants"]] == [
        (v["sku"], v["price"], 7, v["attributes"]) for v in product["variants"]
    ]
    assert payload["variants"][0]["price"] == {"amount": 2500, "currency": "EUR"}


async def test_a_refused_product_leaves_no_event(catalog):
    product = await create_product(catalog)
    before = await _events(catalog)

    price = {"amount": 100, "currency": "EUR"}
    unknown_category = await catalog.post(
        "/admin/v1/products",
        json={
            "slug": "orphan",
            "name": "Orphan",
            "brand": "B",
            "category": "no-such-category",
            "variants": [{"sku": "ORPHAN-1", "price": price}],
        },
        headers=MERCHANDISER,
    )
    taken_slug = await catalog.post(
        "/admin/v1/products",
        json={
            "slug": product["slug"],
            "name": "Copy",
            "brand": "B",
            "category": "tshirts",
            "variants": [{"sku": "COPY-1", "price": price}],
        },
        headers=MERCHANDISER,
    )
    assert (unknown_category.status_code, taken_slug.status_code) == (422, 409)
    assert await _events(catalog) == before


async def test_a_stock_adjustment_publishes_the_new_stock_and_a_refused_one_nothing(catalog):
    product = await create_product(catalog, stock=10)
    sku = product["variants"][0]["sku"]
    await reserve(catalog, lines=[(sku, 8)])

    added = await _adjust(catalog, sku, 5)
    assert added.json() | {"adjustment": None} == {
        "sku": sku,
        "product_id": product["id"],
        "on_hand": 15,
        "reserved": 8,
        "available": 7,
        "adjustment": None,
    }
    [changed] = await _events(catalog, "InventoryChanged")
    assert (changed["aggregate_type"], changed["aggregate_id"]) == ("product", product["id"])
    assert changed["payload"] | {"changed_at": None} == {
        "product_id": product["id"],
        "sku": sku,
        "on_hand": 15,
        "reserved": 8,
        "available": 7,
        "reason": "adjustment",
        "changed_at": None,
    }

    before = await _events(catalog)
    assert (await _adjust(catalog, sku, -8)).status_code == 409  # below the units reserved
    assert (await _adjust(catalog, "NO-SUCH-SKU", 1)).status_code == 404
    assert await _events(catalog) == before


async def test_a_sale_publishes_each_skus_stock_with_its_own_product(catalog):
    shirt, other = await create_product(catalog, stock=10), await create_product(catalog, stock=4)
    small, medium = (v["sku"] for v in shirt["variants"])
    other_sku = other["variants"][1]["sku"]
    held = (await reserve(catalog, lines=[(small, 2), (medium, 1), (other_sku, 3)])).json()
    assert await _events(catalog, "InventoryChanged") == []  # holding stock is not news

    assert (await catalog.post(f"/internal/reservations/{held['id']}/commit")).status_code == 200
    sold = {e["payload"]["sku"]: e for e in await _events(catalog, "InventoryChanged")}
    assert {sku: e["aggregate_id"] for sku, e in sold.items()} == {
        small: shirt["id"],
        medium: shirt["id"],
        other_sku: other["id"],
    }
    assert {sku: (e["payload"]["on_hand"], e["payload"]["reserved"]) for sku, e in sold.items()} == {
        small: (8, 0),
        medium: (9, 0),
        other_sku: (1, 0),
    }
    assert {e["payload"]["reason"] for e in sold.values()} == {"sale"}

    await catalog.post(f"/internal/reservations/{held['id']}/commit")  # a retry changes nothing
    assert len(await _events(catalog, "InventoryChanged")) == 3


async def test_selling_out_by_reservation_and_coming_back_are_published(catalog):
    product = await create_product(catalog, stock=3)
    sku = product["variants"][0]["sku"]

    partial = (await reserve(catalog, lines=[(sku, 1)])).json()
    assert await _events(catalog, "InventoryChanged") == []  # still in stock
    last = (await reserve(catalog, lines=[(sku, 2)])).json()
    [sold_out] = await _events(catalog, "InventoryChanged")
    assert (sold_out["payload"]["available"], sold_out["payload"]["reason"]) == (0, "reserved")

    refused = await reserve(catalog, lines=[(sku, 1)])
    assert refused.status_code == 409
    assert len(await _events(catalog, "InventoryChanged")) == 1

    await catalog.post(f"/internal/reservations/{last['id']}/release")
    back = (await _events(catalog, "InventoryChanged"))[-1]["payload"]
    assert (back["available"], back["reserved"], back["reason"]) == (2, 1, "released")

    await catalog.post(f"/internal/reservations/{partial['id']}/release")  # in stock before and after
    assert len(await _events(catalog, "InventoryChanged")) == 2


async def test_a_refused_reservation_publishes_nothing_even_for_a_sku_it_would_sell_out(catalog):
    product = await create_product(catalog, stock=3)
    would_sell_out, too_few = (v["sku"] for v in product["variants"])
    refused = await reserve(catalog, lines=[(would_sell_out, 3), (too_few, 4)])
    assert refused.status_code == 409
    assert await _events(catalog, "InventoryChanged") == []


async def test_an_expired_reservation_that_brings_stock_back_is_published(catalog):
    product = await create_product(catalog, stock=2)
    sku = product["variants"][0]["sku"]
    await reserve(catalog, lines=[(sku, 2)], ttl_seconds=1)

    async with catalog.app.state.db.unit_of_work() as session:
        assert await expire_due(session, datetime.now(UTC) + timedelta(seconds=5)) == 1
    changes = await _events(catalog, "InventoryChanged")
    reasons = [(e["payload"]["reason"], e["payload"]["available"]) for e in changes]
    assert reasons == [("reserved", 0), ("expired", 2)]


async def test_events_follow_the_order_things_happen_within_one_reservation(catalog):
    """Selling A out, then expiring an old hold on A and B to find B's units: A is back in stock."""
    product = await create_product(catalog, stock=2)
    a, b = (v["sku"] for v in product["variants"])
    await reserve(catalog, lines=[(a, 1), (b, 2)], ttl_seconds=1)
    async with catalog.app.state.db.unit_of_work() as session:  # the hold is overdue, not yet swept
        await session.execute(update(Reservation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await reserve(catalog, lines=[(a, 1), (b, 1)])).status_code == 201

    changes = [
        (e["payload"]["sku"], e["payload"]["reason"], e["payload"]["available"])
        for e in await _events(catalog, "InventoryChanged")
    ]
    assert changes == [
        (b, "reserved", 0),  # the old hold sold B out
        (a, "reserved", 0),  # the new one sells A out, then finds B's units by expiring the old hold:
        (b, "expired", 2),
        (a, "expired", 1),  # so A is back in stock, and that is the last word on A
    ]
    assert (await available(catalog, a), await available(catalog, b)) == (1, 1)


async def test_seeding_publishes_every_product_as_the_catalog_shows_it(databases, backend, tmp_path):
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", backend),
        image_dir=tmp_path / "images",
        cursor_secret="s",
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        report = await seed_demo_catalog(app.state.db, app.state.images)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            client.app = app  # type: ignore[attr-defined]
            created = await _events(client)
            assert {e["type"] for e in created} == {"ProductCreated"}
            assert len({e["aggregate_id"] for e in created}) == len(created) == report.products

            shirt = (await client.get("/api/v1/products/classic-cotton-t-shirt")).json()
            [event] = [e for e in created if e["aggregate_id"] == shirt["id"]]
            payload = event["payload"]
            assert payload["category_path"] == [c["slug"] for c in shirt["breadcrumbs"]]
            assert len(payload["category_path"]) > 1
            assert payload["image_url"] == shirt["images"][0]["url"]
            assert [(v["variant_id"], v["sku"], v["price"], v["available"]) for v in payload["variants"]] == [
                (v["id"], v["sku"], v["price"], v["available"]) for v in shirt["variants"]
            ]

            await seed_demo_catalog(app.state.db, app.state.images)  # skipped: nothing new
            assert len(await _events(client)) == report.products
