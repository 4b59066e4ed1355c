"""The shopper's calls to the gateway, with the API tokens the browser keeps in the session cookies
(`mercato.webkit.cookies`), refreshed transparently (`mercato.webkit.caller`)."""

from __future__ import annotations

from fastapi import Request

from mercato.storefront.gateway import Gateway
from mercato.webkit.caller import TokenCaller
from mercato.webkit.cookies import SessionCookies


class Shopper(TokenCaller):
    """The signed-in shopper's calls to the gateway."""

    def __init__(self, request: Request, gateway: Gateway, cookies: SessionCookies) -> None:
        super().__init__(
            request,
            gateway,
            access_cookie=cookies.access,
            refresh_cookie=cookies.refresh,
            refresh_path="/api/v1/auth/refresh",
            part="account",
        )
