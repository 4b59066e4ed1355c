"""The storefront's only upstream: the public API at the gateway, through one shared `httpx.AsyncClient`.

Failures become three exceptions the pages understand: `NotFound` (404), `BadInput` (400/422, e.g. a
stale cursor) and `Unavailable` (the part of the shop behind the route is down, slow or rate-limited).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

Params = Mapping[str, str | int | Sequence[str]] | Sequence[tuple[str, str]]


class GatewayError(Exception):
    def __init__(self, part: str, detail: str = "") -> None:
        super().__init__(f"{part}: {detail}")
        self.part = part  # "catalog" or "search": which part of the shop failed
        self.detail = detail


class NotFound(GatewayError):
    pass


class BadInput(GatewayError):
    pass


class Unavailable(GatewayError):
    pass


class Gateway:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"accept": "application/json", "user-agent": "mercato-storefront"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _get(self, part: str, path: str, params: Params | None = None) -> httpx.Response:
        try:
            response = await self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise Unavailable(part, type(exc).__name__) from exc
        if response.status_code == 404:
            raise NotFound(part, path)
        if response.status_code in (400, 422):
            raise BadInput(part, response.text[:300])
        if response.status_code >= 400:
            raise Unavailable(part, f"HTTP {response.status_code}")
        return response

    async def send(
        self,
        part: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A call for the shopper's own things (cart, orders, account): 4xx answers are the caller's to
        read; the service being down, slow, rate-limited or failing is `Unavailable`."""
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        try:
            response = await self.client.request(method, path, json=json, params=params, headers=sent)
        except httpx.HTTPError as exc:
            raise Unavailable(part, type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(part, f"HTTP {response.status_code}")
        return response

    async def _json(self, part: str, path: str, params: Params | None = None) -> Any:
        response = await self._get(part, path, params)
        try:
            return response.json()
        except ValueError as exc:
            raise Unavailable(part, "not JSON") from exc

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

    async def image(self, name: str) -> httpx.Response:
        return await self._get("catalog", f"/api/v1/images/{name}")

    # --- search --------------------------------------------------------------------------------
    async def search(self, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        return await self._json("search", "/api/v1/search", params)

    async def suggest(self, q: str) -> list[dict[str, Any]]:
        return (await self._json("search", "/api/v1/search/suggest", {"q": q}))["data"]
