"""The search service: a Tantivy product index fed only by catalog's events, searched through the gateway."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.platform.clients import ServiceClient
from mercato.services.search.api import internal, public
from mercato.services.search.consumers import handlers
from mercato.services.search.index import DEFAULT_CURRENCY, ProductIndex
from mercato.services.search.markets import Markets
from mercato.services.search.rebuild import RebuildStatus, start_rebuild
from mercato.services.search.settings import SearchSettings


def build_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.index = await asyncio.to_thread(ProductIndex, settings.index_dir)
        app.state.rebuild = RebuildStatus()
        app.state.rebuild_task = None
        if app.state.index.replaced:  # e.g. a new SCHEMA_VERSION: fill it again from catalog
            start_rebuild(app.state)
        assert settings.index_dir is not None
        app.state.markets = Markets(settings.index_dir / "markets.json", fallback_currency=DEFAULT_CURRENCY)
        app.state.catalog = ServiceClient("catalog", settings.catalog_url)
        app.state.markets_task = asyncio.create_task(
            app.state.markets.keep_fresh(app.state.catalog, settings.markets_refresh_seconds)
        )

    async def on_shutdown(app: FastAPI) -> None:
        for task in (app.state.rebuild_task, app.state.markets_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.state.catalog.close()
        await asyncio.to_thread(app.state.index.close)

    return create_app(
        settings=settings,
        title="Mercato search",
        description="Relevance-ranked, typo-tolerant product search with facets and suggestions.",
        routers=[public, internal],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
        publishes=False,
    )


app = build_app()
