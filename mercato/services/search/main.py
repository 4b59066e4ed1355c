"""The search service: a Tantivy product index fed only by catalog's events, searched through the gateway."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.search.api import internal, public
from mercato.services.search.consumers import handlers
from mercato.services.search.index import ProductIndex
from mercato.services.search.rebuild import RebuildStatus
from mercato.services.search.settings import SearchSettings


def build_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.index = await asyncio.to_thread(ProductIndex, settings.index_dir)
        app.state.rebuild = RebuildStatus()
        app.state.rebuild_task = None

    async def on_shutdown(app: FastAPI) -> None:
        if app.state.rebuild_task is not None:
            app.state.rebuild_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await app.state.rebuild_task
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
