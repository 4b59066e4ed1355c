"""The storefront's only upstream: the public API at the gateway (see `mercato.webkit.gateway`), plus
the catalog and search reads the pages make — every one of them public, so kept for a moment and shared
by every shopper (`mercato.webkit.answers`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mercato.webkit.answers import Answers
from mercato.webkit.gateway import BadInput, GatewayClient, GatewayError, NotFound, Unavailable

__all__ = ["BadInput", "Gateway", "GatewayError", "NotFound", "Unavailable"]


class Gateway(GatewayClient):
    def __init__(self, base_url: str, timeout: float, answers: Answers | None = None) -> None:
        super().__init__(base_url, timeout, user_agent="mercato-storefront", answers=answers)

    # --- catalog -------------------------------------------------------------------------------
    async def categories(self) -> list[dict[str, Any]]:
        return (await self._json("catalog", "/api/v1/categories"))["data"]

    async def products(
        self, *, category: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit}
        if category:
            params["category"] = category
        if cursor:
            params["cursor"] = cursor
        return await self._json("catalog", "/api/v1/products", params)

    async def product(self, slug: str) -> dict[str, Any]:
        return await self._json("catalog", f"/api/v1/products/{slug}")

    # --- search --------------------------------------------------------------------------------
    async def search(self, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        return await self._json("search", "/api/v1/search", params)

    async def suggest(self, q: str) -> list[dict[str, Any]]:
        return (await self._json("search", "/api/v1/search/suggest", {"q": q}))["data"]
