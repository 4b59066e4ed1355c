"""Images through both stores (local files; S3 over its real wire protocol), and the demo seed."""

from __future__ import annotations

import boto3
import httpx

from mercato.platform.storage import content_key
from mercato.services.catalog.main import build_app
from mercato.services.catalog.seed import seed_demo_catalog
from mercato.services.catalog.settings import CatalogSettings


async def _seeded_client(settings: CatalogSettings):
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        report = await seed_demo_catalog(app.state.db, app.state.images)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            yield app, report, client


async def test_the_demo_seed_gives_a_realistic_browsable_catalog(databases, backend, tmp_path):
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", backend),
        image_dir=tmp_path / "images",
        cursor_secret="s",
    )
    async for app, report, client in _seeded_client(settings):
        assert report.products >= 200 and report.variants >= 500 and report.images >= report.products
        ids, cursor = [], None
        while True:
            page = (
                await client.get(
                    "/api/v1/products", params={"limit": 100} | ({"cursor": cursor} if cursor else {})
                )
            ).json()
            ids += [p["id"] for p in page["data"]]
            if not (cursor := page["next_cursor"]):
                break
        assert len(ids) == len(set(ids)) == report.products

        shirt = (await client.get("/api/v1/products/classic-cotton-t-shirt")).json()
        assert {"size", "colour"} <= set(shirt["attributes"])
        image = await client.get(shirt["images"][0]["url"])
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in image.content
        assert "immutable" in image.headers["cache-control"]

        # the gift card: a digital product, sold in every market at its face value, at the zero rate
        for country, currency in [("DE", "EUR"), ("GB", "GBP"), ("US", "USD")]:
            card = (
                await client.get("/api/v1/products/mercato-gift-card", params={"country": country})
            ).json()
            assert card["tax_class"] == "zero" and card["category"]["slug"] == "gift-cards"
            assert [(v["sku"], v["kind"], v["price"]) for v in card["variants"]] == [
                (f"GIFT-{n}", "gift_card", {"amount": n * 100, "currency": currency}) for n in (25, 50, 100)
            ]
        found = (await client.get("/internal/variants", params={"sku": "GIFT-50"})).json()["variants"]
        assert (found[0]["kind"], found[0]["weight_grams"], found[0]["available"]) == (
            "gift_card",
            0,
            1_000_000,
        )

        assert (
            await seed_demo_catalog(app.state.db, app.state.images)
        ).skipped  # running it again is a no-op


async def test_images_live_in_s3_in_the_scale_out_profile(databases, tmp_path, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket="mercato-test")
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", "sqlite"),
        image_store="s3",
        s3_bucket="mercato-test",
        s3_endpoint_url=s3_endpoint,
        cursor_secret="s",
    )
    async for _app, _report, client in _seeded_client(settings):
        shirt = (await client.get("/api/v1/products/classic-cotton-t-shirt")).json()
        key = shirt["images"][0]["url"].rsplit("/", 1)[1]
        stored = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").get_object(
            Bucket="mercato-test", Key=key
        )
        body = stored["Body"].read()
        assert stored["ContentType"] == "image/svg+xml"
        assert content_key(body, "image/svg+xml") == key  # content addressed
        served = await client.get(shirt["images"][0]["url"])
        assert served.status_code == 200 and served.content == body
