"""The shopper's session: API tokens in HttpOnly cookies, refreshed transparently, and CSRF tokens.

Nothing is stored on the server. The access and refresh tokens live in HttpOnly, SameSite=Lax cookies
(Secure over https). Every POST form carries a signed double-submit token: the same value in a cookie and
a hidden field, HMAC-signed with the session secret so a sibling subdomain can't plant a matching pair.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from mercato.storefront.gateway import Gateway
from mercato.webkit import csrf
from mercato.webkit.caller import TokenCaller

ACCESS_COOKIE = "mercato_access"
REFRESH_COOKIE = "mercato_refresh"
CSRF_COOKIE = "mercato_csrf"


# --- CSRF ------------------------------------------------------------------------------------------
async def check_csrf(request: Request, secret: str) -> None:
    await csrf.check_csrf(request, secret, CSRF_COOKIE)


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
class Shopper(TokenCaller):
    """The signed-in shopper's calls to the gateway (see `mercato.webkit.caller`)."""

    def __init__(self, request: Request, gateway: Gateway) -> None:
        super().__init__(
            request,
            gateway,
            access_cookie=ACCESS_COOKIE,
            refresh_cookie=REFRESH_COOKIE,
            refresh_path="/api/v1/auth/refresh",
            part="account",
        )
