"""Calls to the gateway on a signed-in person's behalf, with tokens kept in the browser's cookies.

On a 401 the caller refreshes the token pair once and retries. New tokens (or the end of the session)
are left on `request.state` (`new_tokens`, `clear_tokens`) for the app's middleware to write to the
browser, so a route never touches cookies itself.

Refresh tokens rotate, and presenting a spent one ends the whole session (that is how a stolen one is
caught). So the calls of one page that run concurrently (`asyncio.gather`) refresh once between them:
the first refreshes, the others wait for it and use its new token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import Request

from mercato.webkit.gateway import GatewayClient


class LoginRequired(Exception):
    """No session, or one that can no longer be refreshed: sign in (again)."""


class TokenCaller:
    def __init__(
        self,
        request: Request,
        gateway: GatewayClient,
        *,
        access_cookie: str,
        refresh_cookie: str,
        refresh_path: str,
        part: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.request = request
        self.gateway = gateway
        self.access = request.cookies.get(access_cookie)
        self.refresh_token = request.cookies.get(refresh_cookie)
        self.refresh_path = refresh_path
        self.part = part
        self.headers = dict(headers or {})
        self._refreshing = asyncio.Lock()

    async def ensure_signed_in(self) -> None:
        """Make sure there is a usable access token (refreshing it if only the refresh token is left)."""
        if not self.access:
            await self._refresh(stale=None)

    async def _refresh(self, *, stale: str | None) -> None:
        """Replace the access token `stale` (None: there was none) — unless a concurrent call of this
        page already did."""
        async with self._refreshing:
            if self.access and self.access != stale:
                return
            await self._rotate()

    async def _rotate(self) -> None:
        if not self.refresh_token:
            raise self._logged_out()
        response = await self.gateway.send(
            self.part,
            "POST",
            self.refresh_path,
            json={"refresh_token": self.refresh_token},
            headers=self.headers,
        )
        if response.status_code != 200:
            raise self._logged_out()
        tokens = response.json()
        self.access, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.request.state.new_tokens = tokens

    def _logged_out(self) -> LoginRequired:
        self.request.state.clear_tokens = True
        return LoginRequired()

    async def send(self, part: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        if not self.access:
            await self._refresh(stale=None)
        used = self.access
        response = await self.gateway.send(part, method, path, token=used, headers=headers, **kwargs)
        if response.status_code == 401:
            await self._refresh(stale=used)
            response = await self.gateway.send(
                part, method, path, token=self.access, headers=headers, **kwargs
            )
            if response.status_code == 401:
                raise self._logged_out()
        return response
