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
    # `country`: priced in its market (None: catalog's default market).
    async def markets(self) -> list[dict[str, Any]]:
        return (await self._json("catalog", "/api/v1/markets"))["data"]

    async def categories(self) -> list[dict[str, Any]]:
        return (await self._json("catalog", "/api/v1/categories"))["data"]

    async def products(
        self,
        *,
        country: str | None,
        category: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit}
        if category:
            params["category"] = category
        if cursor:
            params["cursor"] = cursor
        if country:
            params["country"] = country
        return await self._json("catalog", "/api/v1/products", params)

    async def product(self, slug: str, *, country: str | None) -> dict[str, Any]:
        return await self._json(
            "catalog", f"/api/v1/products/{slug}", {"country": country} if country else None
        )

    # --- search --------------------------------------------------------------------------------
    async def search(self, params: Sequence[tuple[str, str]], *, country: str | None) -> dict[str, Any]:
        return await self._json(
            "search", "/api/v1/search", [*params, *([("country", country)] if country else [])]
        )

    async def suggest(self, q: str, *, country: str | None) -> list[dict[str, Any]]:
        params = {"q": q} | ({"country": country} if country else {})
        return (await self._json("search", "/api/v1/search/suggest", params))["data"]
