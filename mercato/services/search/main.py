"""The search service: a Tantivy product index fed only by catalog's events, searched through the gateway."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.search.api import public
from mercato.services.search.consumers import handlers
from mercato.services.search.index import ProductIndex
from mercato.services.search.settings import SearchSettings


def build_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.index = await asyncio.to_thread(ProductIndex, settings.index_dir)

    async def on_shutdown(app: FastAPI) -> None:
        await asyncio.to_thread(app.state.index.close)

    return create_app(
        settings=settings,
        title="Mercato search",
        description="Relevance-ranked, typo-tolerant product search with facets and suggestions.",
        routers=[public],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
        publishes=False,
    )


app = build_app()
