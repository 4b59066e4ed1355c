"""The pages of visitors without a session, kept whole while the answers they were made from are fresh.

What a visitor who is not signed in sees of the home page, a category, a product or search results is
the same for all of them in one market (their country cookie: the prices, the currency and what is sold
there; pages are kept per country) but for one thing: the CSRF token in the product page's form, which is each
visitor's own. So such a page is rendered once with `TOKEN` where the token goes, kept, and sent to every
such visitor with their own token put in (`SessionMiddleware` sends a new one as a cookie). It is kept
until the first of the catalog and search answers it was made from goes stale
(`mercato.webkit.answers`): a kept page is never older than its data may be. A signed-in shopper never
gets one, and never adds one: their pages show their account and are `private, no-store`.

A kept page is sent with an ETag — its digest, and the visitor's token's when it holds one — with
`Cache-Control: public, max-age=1` (`private` when it holds the token) and `Vary: Cookie`, and a request
that names the ETag in If-None-Match gets a 304.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mercato.webkit import answers
from mercato.webkit.answers import Clock
from mercato.webkit.cookies import SessionCookies, csrf_token

TOKEN = f"csrf-token-{secrets.token_hex(16)}"  # unguessable: no product text can contain it
MAX_AGE = 1  # seconds a browser may show a kept page without asking again


def _digest(data: bytes, size: int = 16) -> str:
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


@dataclass(frozen=True)
class Page:
    body: bytes  # with TOKEN where the visitor's CSRF token goes
    media_type: str
    digest: str
    holds_token: bool
    expires: float

    @classmethod
    def of(cls, response: Response, expires: float) -> Page:
        body = bytes(response.body)
        media_type = response.headers.get("content-type", "text/html; charset=utf-8")
        return cls(body, media_type, _digest(body), TOKEN.encode() in body, expires)

    def response(self, request: Request) -> Response:
        """The page for this visitor: with their token, or a 304 if they have it already."""
        body, etag, cache = self.body, f'"{self.digest}"', "public"
        if self.holds_token:
            token = csrf_token(request).encode()
            body = body.replace(TOKEN.encode(), token)
            etag, cache = f'"{self.digest}-{_digest(token, 6)}"', "private"
        headers = {"etag": etag, "cache-control": f"{cache}, max-age={MAX_AGE}", "vary": "Cookie"}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, headers=headers, media_type=self.media_type)


class PageCache:
    """At most `capacity` pages, the least recently used dropped first; kept by path, query and the
    visitor's `country_cookie` (their market)."""

    def __init__(
        self,
        capacity: int,
        fresh_seconds: float,
        country_cookie: str = "",
        clock: Clock = time.monotonic,
    ) -> None:
        self.capacity, self.fresh_seconds, self.clock = capacity, fresh_seconds, clock
        self.country_cookie = country_cookie
        self._pages: OrderedDict[str, Page] = OrderedDict()

    def key_of(self, request: Request) -> str:
        """ "/p/tee?" for a visitor of the default market, "/p/tee?#GB" for one who chose Britain."""
        path = f"{request.scope['path']}?{request.scope['query_string'].decode('latin-1')}"
        country = request.cookies.get(self.country_cookie, "")[:2] if self.country_cookie else ""
        return f"{path}#{country}" if country else path

    def get(self, key: str) -> Page | None:
        page = self._pages.get(key)
        if page is None or self.clock() >= page.expires:
            return None
        self._pages.move_to_end(key)
        return page

    def keep(self, request: Request, response: Response, freshness: answers.Freshness) -> Response:
        """Keep a freshly rendered page (until its data goes stale) and answer with it."""
        now = self.clock()
        page = Page.of(response, min(freshness.until, now + self.fresh_seconds))
        if page.expires > now:  # else made from an answer that may not be kept (no-store)
            key = self.key_of(request)
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        return page.response(request)


class PageCacheMiddleware:
    """Answers a GET from a kept page when the visitor has no session; else lets the app answer,
    tracking the answers it reads (the routes keep the pages they may: `mercato.storefront.web.render`)."""

    def __init__(self, app: ASGIApp, pages: PageCache, cookies: SessionCookies) -> None:
        self.app, self.pages, self.cookies = app, pages, cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.cookies.signed_in(request):
            await self.app(scope, receive, send)
            return
        page = self.pages.get(self.pages.key_of(request))
        if page is not None:
            await page.response(request)(scope, receive, send)
            return
        with answers.tracking():
            await self.app(scope, receive, send)
