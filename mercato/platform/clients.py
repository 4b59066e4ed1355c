"""Calling a sibling service directly (never through the gateway), with its problems mapped back.

A 4xx problem from the callee is raised as the same Problem here, so it can be handled or passed on;
anything else that goes wrong — refused connection, timeout, 5xx — is `ServiceUnavailable`, which a
caller must treat as "the outcome is unknown" (the callee may have acted).
"""

from __future__ import annotations

from typing import Any

import httpx

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
    def __init__(self, name: str, base_url: str, *, timeout: float = 5.0) -> None:
        self.name = name
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=1.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            trust_env=False,
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {}) | ({"x-request-id": rid} if (rid := request_id_var.get()) else {})
        if trace := tracing.current():
            headers["traceparent"] = tracing.child_of(trace)
        try:
            response = await self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.name} did not answer ({type(exc).__name__}).") from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{self.name} failed with {response.status_code}.")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"title": response.reason_phrase, "detail": response.text[:200]}
            raise RemoteProblem(response.status_code, body)
        return response.json() if response.content else None

    async def close(self) -> None:
        await self.http.aclose()
