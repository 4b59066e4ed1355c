"""The staff member's session: the staff API tokens in HttpOnly, SameSite=Strict cookies of the admin
app's own (never the storefront's: other names, another host name, another secret), refreshed
transparently, and signed CSRF tokens on every form.

Nothing is stored on the server. Between the password and the second factor, the sign-in challenge
waits in a cookie of its own that lives five minutes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import Request, Response

from mercato.webkit import csrf
from mercato.webkit.caller import TokenCaller
from mercato.webkit.gateway import GatewayClient

ACCESS_COOKIE = "mercato_admin_access"
REFRESH_COOKIE = "mercato_admin_refresh"
CHALLENGE_COOKIE = "mercato_admin_challenge"
CSRF_COOKIE = "mercato_admin_csrf"


async def check_csrf(request: Request, secret: str) -> None:
    await csrf.check_csrf(request, secret, CSRF_COOKIE)


def cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}


def set_tokens(request: Request, response: Response, tokens: dict[str, Any], refresh_hours: int) -> None:
    options = cookie_options(request)
    response.set_cookie(
        ACCESS_COOKIE, tokens["access_token"], max_age=int(tokens.get("expires_in") or 600), **options
    )
    response.set_cookie(REFRESH_COOKIE, tokens["refresh_token"], max_age=refresh_hours * 3600, **options)
    response.delete_cookie(CHALLENGE_COOKIE, **options)


def clear_tokens(request: Request, response: Response) -> None:
    options = cookie_options(request)
    for name in (ACCESS_COOKIE, REFRESH_COOKIE, CHALLENGE_COOKIE):
        response.delete_cookie(name, **options)


def claims_of(token: str | None) -> dict[str, Any]:
    """The access token's claims, for showing the right menu only: the gateway verifies the token on
    every call, so nothing here is trusted for access."""
    try:
        payload = (token or "").split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def browser_address(request: Request) -> str:
    return request.client.host if request.client else ""


class StaffCaller(TokenCaller):
    """Calls to the gateway's admin routes on the signed-in staff member's behalf (see
    `mercato.webkit.caller`). The browser's address goes along in x-forwarded-for, for the audit trail."""

    def __init__(self, request: Request, gateway: GatewayClient) -> None:
        super().__init__(
            request,
            gateway,
            access_cookie=ACCESS_COOKIE,
            refresh_cookie=REFRESH_COOKIE,
            refresh_path="/admin/v1/auth/refresh",
            part="staff",
            headers={"x-forwarded-for": browser_address(request)},
        )

    @property
    def claims(self) -> dict[str, Any]:
        return claims_of(self.access)
