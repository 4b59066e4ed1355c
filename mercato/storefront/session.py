"""The shopper's session: API tokens in HttpOnly cookies, refreshed transparently, and CSRF tokens.

Nothing is stored on the server. The access and refresh tokens live in HttpOnly, SameSite=Lax cookies
(Secure over https). Every POST form carries a signed double-submit token: the same value in a cookie and
a hidden field, HMAC-signed with the session secret so a sibling subdomain can't plant a matching pair.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import httpx
from fastapi import Request, Response

from mercato.storefront.gateway import Gateway

ACCESS_COOKIE = "mercato_access"
REFRESH_COOKIE = "mercato_refresh"
CSRF_COOKIE = "mercato_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No session, or one that can no longer be refreshed: the shopper must sign in (again)."""


class CsrfFailed(Exception):
    pass


# --- CSRF ------------------------------------------------------------------------------------------
def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_csrf_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(secret, nonce)}"


def valid_csrf_token(secret: str, token: str | None) -> bool:
    if not token or len(token) > 200:
        return False
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(secret, nonce))


async def check_csrf(request: Request, secret: str) -> None:
    """The form's hidden token must match the cookie's, and be ours."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not (
        isinstance(sent, str)
        and cookie
        and hmac.compare_digest(sent.encode(), cookie.encode())
        and valid_csrf_token(secret, cookie)
    ):
        raise CsrfFailed


# --- cookies ---------------------------------------------------------------------------------------
def cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": request.url.scheme == "https", "path": "/"}


def set_tokens(request: Request, response: Response, tokens: dict[str, Any], refresh_days: int) -> None:
    options = cookie_options(request)
    response.set_cookie(
        ACCESS_COOKIE, tokens["access_token"], max_age=int(tokens.get("expires_in") or 900), **options
    )
    response.set_cookie(REFRESH_COOKIE, tokens["refresh_token"], max_age=refresh_days * 86400, **options)


def clear_tokens(request: Request, response: Response) -> None:
    options = cookie_options(request)
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, **options)


def signed_in(request: Request) -> bool:
    return bool(request.cookies.get(ACCESS_COOKIE) or request.cookies.get(REFRESH_COOKIE))


# --- calls on the shopper's behalf -----------------------------------------------------------------
class Shopper:
    """The signed-in shopper's calls to the gateway. On a 401 it refreshes the tokens once and retries;
    new tokens (or the end of the session) are left on `request.state` for the middleware to set."""

    def __init__(self, request: Request, gateway: Gateway) -> None:
        self.request = request
        self.gateway = gateway
        self.access = request.cookies.get(ACCESS_COOKIE)
        self.refresh_token = request.cookies.get(REFRESH_COOKIE)

    async def _refresh(self) -> None:
        if not self.refresh_token:
            raise self._logged_out()
        response = await self.gateway.send(
            "account", "POST", "/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}
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
        if not self.access:
            await self._refresh()
        response = await self.gateway.send(part, method, path, token=self.access, **kwargs)
        if response.status_code == 401:
            await self._refresh()
            response = await self.gateway.send(part, method, path, token=self.access, **kwargs)
            if response.status_code == 401:
                raise self._logged_out()
        return response
