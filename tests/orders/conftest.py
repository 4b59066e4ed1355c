from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mercato.services.catalog.main import build_app as build_catalog
from mercato.services.catalog.settings import CatalogSettings
from mercato.services.orders.main import build_app as build_orders
from mercato.services.orders.settings import OrdersSettings
from tests.catalog.factories import add_categories


@pytest.fixture
async def shop(databases, backend, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(orders, catalog): both apps in-process on their own real databases; orders reaches catalog
    over ASGI instead of TCP, everything else as deployed."""
    catalog_app = build_catalog(
        CatalogSettings(
            environment="test",
            database_url=await databases.fresh("catalog", backend),
            image_dir=tmp_path / "img",
            cursor_secret="s",
            expiry_sweep_seconds=3600,
        )
    )
    orders_app = build_orders(
        OrdersSettings(
            environment="test",
            database_url=await databases.fresh("orders", backend),
            cursor_secret="s",
            reconcile_every_seconds=3600,
        )
    )
    async with (
        catalog_app.router.lifespan_context(catalog_app),
        orders_app.router.lifespan_context(orders_app),
    ):
        await add_categories(catalog_app)
        deps = orders_app.state.deps
        deps.catalog.client.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=catalog_app), base_url="http://catalog"
        )
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=orders_app), base_url="http://orders"
            ) as orders,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=catalog_app), base_url="http://catalog"
            ) as catalog,
        ):
            yield orders, catalog
