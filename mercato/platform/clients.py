"""Calling a sibling service directly (never through the gateway), with its problems mapped back.

A 4xx problem from the callee is raised as the same Problem here, so it can be handled or passed on;
anything else that goes wrong — refused connection, timeout, 5xx — is `ServiceUnavailable`, which a
caller must treat as "the outcome is unknown" (the callee may have acted).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from mercato.platform import tracing
from mercato.platform.errors import Problem, ServiceUnavailable
from mercato.platform.logging import request_id_var


class RemoteProblem(Problem):
    """A problem answered by another service, kept with its status and body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.title = body.get("title", "Error")
        self.slug = str(body.get("type", "")).rsplit("/", 1)[-1] or "error"
        super().__init__(body.get("detail"), errors=body.get("errors"))
        self.body = body


class ServiceClient:
    """One keep-alive connection pool to one service (aiohttp: a call costs ~0.1 ms of CPU here, httpx's
    ~0.7 ms — on the checkout path, five calls; docs/performance.md). Made on first use, in the loop
    that uses it."""

    def __init__(self, name: str, base_url: str, *, timeout: float = 5.0) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=1.0)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                base_url=self.base_url,
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=200, keepalive_timeout=30),
                json_serialize=lambda value: orjson.dumps(value).decode(),
                trust_env=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON body (None if empty)."""
        return (await self.call(method, path, params=params, json=json, headers=headers))[1]

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """The answer's status and JSON body, for a caller to whom a 200 and a 201 differ."""
        status, body = await self._exchange(method, path, params=params, json=json, headers=headers)
        return status, orjson.loads(body) if body else None

    async def fetch(self, path: str, *, params: Any = None) -> bytes:
        """GET `path` and return the answer's bytes as they are (a PDF, say); problems as `call`'s."""
        return (await self._exchange("GET", path, params=params, json=None, headers=None))[1]

    async def _exchange(
        self, method: str, path: str, *, params: Any, json: Any, headers: dict[str, str] | None
    ) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if rid := request_id_var.get():
            headers["x-request-id"] = rid
        with tracing.span(f"{method} {self.name}", kind=tracing.CLIENT) as span:
            tracing.inject(headers)
            try:
                call = self._http().request(method, path, params=params, json=json, headers=headers)
                async with call as response:
                    status, reason, body = response.status, response.reason, await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ServiceUnavailable(f"{self.name} did not answer ({type(exc).__name__}).") from exc
            if span.is_recording():
                span.set_attributes(
                    {"http.request.method": method, "server.address": self.name, "url.path": path}
                    | {"http.response.status_code": status}
                )
                if status >= 500:
                    tracing.failed(span, f"HTTP {status}")
        if status >= 500:
            raise ServiceUnavailable(f"{self.name} failed with {status}.")
        if status >= 400:
            try:
                problem = orjson.loads(body)
            except orjson.JSONDecodeError:
                problem = {"title": reason or "Error", "detail": body[:200].decode(errors="replace")}
            raise RemoteProblem(status, problem)
        return status, body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
