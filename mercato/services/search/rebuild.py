"""Rebuilding the index from catalog's product snapshots (after losing it, or a schema change).

Catalog's private `/internal/product-snapshots` pages through every active product as its events'
snapshot; the index builds a fresh generation from them and swaps it in, while queries keep answering
from the old one and events keep arriving into both.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from mercato.contracts.events import ProductCreated
from mercato.platform.clients import ServiceClient
from mercato.services.search.index import ProductIndex

log = logging.getLogger("mercato.search.rebuild")


@dataclass
class RebuildStatus:
    state: Literal["idle", "fetching", "indexing", "done", "failed"] = "idle"
    fetched: int = 0
    indexed: int = 0
    error: str | None = None


def start_rebuild(state: Any) -> None:
    """Start a rebuild in the background (the app's `state`: its index, settings and rebuild status)."""
    state.rebuild.state = "fetching"
    state.rebuild_task = asyncio.create_task(
        rebuild_from_catalog(state.index, state.settings.catalog_url, state.rebuild)
    )


async def rebuild_from_catalog(index: ProductIndex, catalog_url: str, status: RebuildStatus) -> None:
    status.state, status.fetched, status.indexed, status.error = "fetching", 0, 0, None
    client = ServiceClient("catalog", catalog_url, timeout=30)
    snapshots: list[ProductCreated] = []
    try:
        cursor = None
        while True:
            page = await client.request(
                "GET",
                "/internal/product-snapshots",
                params={"limit": 100, **({"cursor": cursor} if cursor else {})},
            )
            snapshots += [ProductCreated.model_validate(item) for item in page["data"]]
            status.fetched = len(snapshots)
            cursor = page.get("next_cursor")
            if not cursor:
                break
        status.state = "indexing"

        def progress(done: int) -> None:
            status.indexed = done

        status.indexed = await asyncio.to_thread(index.rebuild, snapshots, on_progress=progress)
        status.state = "done"
        log.info("index rebuilt", extra={"products": status.indexed})
    except Exception as exc:
        status.state, status.error = "failed", f"{type(exc).__name__}: {exc}"
        log.exception("rebuild failed")
    finally:
        await client.close()
