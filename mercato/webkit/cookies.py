"""A front end's session in the browser's cookies: API tokens in HttpOnly cookies (Secure over https),
a signed CSRF token for every form, and the middleware that hands them out and writes back what a
request changed (`request.state.new_tokens`, `request.state.clear_tokens`; see `mercato.webkit.caller`).

Nothing is stored on the server. Each front end names its own cookies, so the shop's and the back
office's never mix, and picks its SameSite policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.webkit import csrf


@dataclass(frozen=True)
class SessionCookies:
    access: str
    refresh: str
    csrf: str
    samesite: Literal["lax", "strict"]
    refresh_max_age: int  # seconds
    default_access_max_age: int = 600  # when the token answer does not say (`expires_in`)
    transient: tuple[str, ...] = ()  # cleared along with the tokens, e.g. a sign-in challenge

    def options(self, request: Request) -> dict[str, Any]:
        secure = request.url.scheme == "https"
        return {"httponly": True, "samesite": self.samesite, "secure": secure, "path": "/"}

    def set_tokens(self, request: Request, response: Response, tokens: Mapping[str, Any]) -> None:
        options = self.options(request)
        access_max_age = int(tokens.get("expires_in") or self.default_access_max_age)
        response.set_cookie(self.access, tokens["access_token"], max_age=access_max_age, **options)
        response.set_cookie(self.refresh, tokens["refresh_token"], max_age=self.refresh_max_age, **options)
        for name in self.transient:
            response.delete_cookie(name, **options)

    def clear_tokens(self, request: Request, response: Response) -> None:
        options = self.options(request)
        for name in (self.access, self.refresh, *self.transient):
            response.delete_cookie(name, **options)

    def signed_in(self, request: Request) -> bool:
        ended = getattr(request.state, "clear_tokens", False)
        return bool(request.cookies.get(self.access) or request.cookies.get(self.refresh)) and not ended

    async def check_csrf(self, request: Request, secret: str) -> None:
        await csrf.check_csrf(request, secret, self.csrf)


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token, for a page's forms (`SessionMiddleware` sends it as a cookie if new)."""
    token = getattr(request.state, "csrf", None)
    return token.use() if token is not None else ""


class SessionMiddleware:
    """Every visitor's forms get a signed CSRF token (`csrf_token`); tokens refreshed (or revoked) during
    the request are written back to the browser. Pure ASGI, like the other middlewares here: a
    BaseHTTPMiddleware costs a task and a stream per request."""

    def __init__(self, app: ASGIApp, cookies: SessionCookies, secret: str) -> None:
        self.app, self.cookies, self.secret = app, cookies, secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = csrf.VisitorToken(self.secret, request.cookies.get(self.cookies.csrf))
        request.state.csrf = token

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                written = Response()
                if token.fresh and token.used:
                    written.set_cookie(self.cookies.csrf, token.use(), **self.cookies.options(request))
                if getattr(request.state, "clear_tokens", False):
                    self.cookies.clear_tokens(request, written)
                elif tokens := getattr(request.state, "new_tokens", None):
                    self.cookies.set_tokens(request, written, tokens)
                cookies = [(name, value) for name, value in written.raw_headers if name == b"set-cookie"]
                if cookies:
                    message["headers"] = [*message.get("headers", ()), *cookies]
            await send(message)

        await self.app(scope, receive, send_with_cookies)


class SecurityHeadersMiddleware:
    """`headers` on every response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
