"""Signed double-submit CSRF tokens: the same value in a cookie and in every form's hidden field,
HMAC-signed with the app's secret so a sibling subdomain can't plant a matching pair."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

CSRF_FIELD = "csrf_token"


class CsrfFailed(Exception):
    pass


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


class VisitorToken:
    """The visitor's token for this request: the one their cookie holds if it is valid, else a new one,
    made the first time a page `use`s it. Only a new token that a page used is sent as a cookie, so a
    page without a form (a product listing, say) sets no cookie and can be shared."""

    def __init__(self, secret: str, cookie: str | None) -> None:
        self.fresh = not valid_csrf_token(secret, cookie)
        self._secret = secret
        self._value = None if self.fresh else cookie
        self.used = False

    def use(self) -> str:
        if self._value is None:
            self._value = new_csrf_token(self._secret)
        self.used = True
        return self._value


async def check_csrf(request: Request, secret: str, cookie_name: str) -> None:
    """The form's hidden token must match the cookie's, and be ours."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(cookie_name)
    if not (
        isinstance(sent, str)
        and cookie
        and hmac.compare_digest(sent.encode(), cookie.encode())
        and valid_csrf_token(secret, cookie)
    ):
        raise CsrfFailed
