"""A web front end's only upstream: the API at the gateway. Calls on someone's behalf (`send`) go through
one shared `httpx.AsyncClient`; the public reads (`_get`: catalog, search, images) — most of what a shop
asks for, several per page — through one aiohttp session, which spends a fraction of httpx's CPU on a
call (docs/performance.md).

Failures become three exceptions the pages understand: `NotFound` (404), `BadInput` (400/422, e.g. a
stale cursor) and `Unavailable` (the part of the shop behind the route is down, slow or rate-limited).
Given `answers` (`mercato.webkit.answers`), the public reads (`_json`) are kept and revalidated there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import httpx
import orjson

from mercato.webkit.answers import Answers, Reply

Params = Mapping[str, str | int | Sequence[str]] | Sequence[tuple[str, str]]


class GatewayError(Exception):
    def __init__(self, part: str, detail: str = "") -> None:
        super().__init__(f"{part}: {detail}")
        self.part = part  # which part of the platform failed, e.g. "catalog" or "search"
        self.detail = detail


class NotFound(GatewayError):
    pass


class BadInput(GatewayError):
    pass


class Unavailable(GatewayError):
    pass


def _asking(etag: str | None) -> dict[str, str]:
    """The headers of a read for `answers`: the current answer (not one the gateway's own cache kept:
    the bound is the front end's), or a 304 if it is still the one with `etag`."""
    return {"cache-control": "no-cache"} | ({"if-none-match": etag} if etag else {})


class GatewayClient:
    def __init__(
        self, base_url: str, timeout: float, user_agent: str, answers: Answers | None = None
    ) -> None:
        self.answers = answers
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = {"accept": "application/json", "user-agent": user_agent}
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers=self.headers,
        )
        self._reads: aiohttp.ClientSession | None = None

    def _reader(self) -> aiohttp.ClientSession:
        """Made on first use, in the event loop that uses it."""
        if self._reads is None or self._reads.closed:
            self._reads = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=min(self.timeout, 2.0)),
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
                headers=self.headers,
                cookie_jar=aiohttp.DummyCookieJar(),  # one session for every visitor: it keeps no cookie
                trust_env=False,
            )
        return self._reads

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._reads is not None:
            await self._reads.close()

    async def _get(
        self, part: str, path: str, params: Params | None = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        query = str(httpx.QueryParams(params)) if params else ""
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        try:
            async with self._reader().get(url, headers=headers) as response:
                reply = Reply(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(part, type(exc).__name__) from exc
        if reply.status_code == 404:
            raise NotFound(part, path)
        if reply.status_code in (400, 422):
            raise BadInput(part, reply.content[:300].decode(errors="replace"))
        if reply.status_code >= 400:
            raise Unavailable(part, f"HTTP {reply.status_code}")
        return reply

    async def image(self, name: str) -> Reply:
        """A product image (public: no token), for a front end to relay same-origin."""
        return await self._get("catalog", f"/api/v1/images/{name}")

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
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """A call on someone's behalf (a shopper's cart, a staff member's edit): 4xx answers are the
        caller's to read; the service being down, slow, rate-limited or failing is `Unavailable`.
        `files` sends a multipart upload (an image, a CSV file)."""
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        try:
            response = await self.client.request(
                method, path, json=json, params=params, headers=sent, files=files
            )
        except httpx.HTTPError as exc:
            raise Unavailable(part, type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(part, f"HTTP {response.status_code}")
        return response

    async def _json(self, part: str, path: str, params: Params | None = None) -> Any:
        if self.answers is None:
            body = (await self._get(part, path, params)).content
        else:
            key = f"{path}?{httpx.QueryParams(params)}"
            body = await self.answers.read(key, lambda etag: self._get(part, path, params, _asking(etag)))
        try:
            return orjson.loads(body)
        except ValueError as exc:
            raise Unavailable(part, "not JSON") from exc
