"""The catalog service: products, variants, categories, prices, images, inventory and reservations."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.platform.storage import ObjectStore, object_store
from mercato.services.catalog import markets, sales
from mercato.services.catalog.api import internal, public
from mercato.services.catalog.browsing import ensure_documents
from mercato.services.catalog.consumers import handlers
from mercato.services.catalog.merchandising.api import router as merchandising
from mercato.services.catalog.service import expire_due
from mercato.services.catalog.settings import CatalogSettings


def image_store(settings: CatalogSettings) -> ObjectStore:
    return object_store(
        settings.image_store,
        directory=settings.image_dir,
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )


async def expire_reservations(app: FastAPI) -> None:
    async with app.state.db.unit_of_work() as session:
        await expire_due(session, datetime.now(UTC))


async def flip_sales(app: FastAPI) -> None:
    """A sale started or ended: its products' documents are rendered again (sales.py)."""
    async with app.state.db.unit_of_work() as session:
        await sales.flip_due(session, datetime.now(UTC), image_base_url=app.state.settings.image_base_url)


def build_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.images = image_store(settings)
        async with app.state.db.unit_of_work() as session:  # a new database, a migration, a new image URL
            app.state.markets = await markets.load(session)  # they change only with a migration
            await ensure_documents(session, image_base_url=settings.image_base_url)

    return create_app(
        settings=settings,
        title="Mercato catalog",
        description="Categories, products with variants, prices, images, inventory and stock reservations.",
        routers=[public, internal, merchandising],
        periodic=[
            (settings.expiry_sweep_seconds, expire_reservations),
            (settings.sale_flip_seconds, flip_sales),
        ],
        on_startup=on_startup,
        handlers=handlers,
    )


app = build_app()
