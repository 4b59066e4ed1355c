"""A front end's session in the browser's cookies: API tokens in HttpOnly cookies (Secure over https),
a signed CSRF token for every form, and the middleware that hands them out and writes back what a
request changed (`request.state.new_tokens`, `request.state.clear_tokens`; see `mercato.webkit.caller`).

Nothing is stored on the server. Each front end names its own cookies, so the shop's and the back
office's never mix, and picks its SameSite policy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request, Response

from mercato.webkit import csrf

Middleware = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]


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


def session_middleware(cookies: SessionCookies, secret: str) -> Middleware:
    """Every visitor gets a signed CSRF token; tokens refreshed (or revoked) during the request are
    written back to the browser."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        token = request.cookies.get(cookies.csrf)
        fresh = not csrf.valid_csrf_token(secret, token)
        request.state.csrf_token = csrf.new_csrf_token(secret) if fresh else token
        response = await call_next(request)
        if fresh:
            response.set_cookie(cookies.csrf, request.state.csrf_token, **cookies.options(request))
        if getattr(request.state, "clear_tokens", False):
            cookies.clear_tokens(request, response)
        elif tokens := getattr(request.state, "new_tokens", None):
            cookies.set_tokens(request, response, tokens)
        return response

    return middleware


def security_headers_middleware(headers: Mapping[str, str]) -> Middleware:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    return middleware
