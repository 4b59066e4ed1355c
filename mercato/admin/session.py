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

from fastapi import Request

from mercato.webkit.caller import TokenCaller
from mercato.webkit.cookies import SessionCookies
from mercato.webkit.gateway import GatewayClient

CHALLENGE_COOKIE = "mercato_admin_challenge"  # between the password and the second factor, 5 minutes


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

    def __init__(self, request: Request, gateway: GatewayClient, cookies: SessionCookies) -> None:
        super().__init__(
            request,
            gateway,
            access_cookie=cookies.access,
            refresh_cookie=cookies.refresh,
            refresh_path="/admin/v1/auth/refresh",
            part="staff",
            headers={"x-forwarded-for": browser_address(request)},
        )

    @property
    def claims(self) -> dict[str, Any]:
        return claims_of(self.access)
