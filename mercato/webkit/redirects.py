"""Redirects that never name a host the client chose.

Starlette builds absolute redirect URLs from the request's Host header: its trailing-slash redirect
(`/cart/` → `/cart`) and `url_for` both do. A request with `Host: evil.example.com` then gets
`location: http://evil.example.com/cart`, which a shared cache in front of the shop could serve to
everybody. This middleware turns any Location on the request's own host into a path on the site
(`/cart`), which browsers resolve against the address they actually used; Locations on other hosts
(the payment provider, say) pass untouched. A path is never left protocol-relative: `//evil.example.com`
and `/\\evil.example.com` become `/evil.example.com`, a path of ours.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def site_path(location: str, *, host: str) -> str:
    """`location` as a path on this site when it points at `host` (or has no host), else unchanged."""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() != host.lower():
        return location
    if not parts.netloc and not location.startswith(("/", "\\")):
        return location  # relative to the current path ("next", "?page=2"): no host involved
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class RelativeRedirectsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if (location := headers.get("location")) is not None:
                    headers["location"] = site_path(location, host=host)
            await send(message)

        await self.app(scope, receive, send_relative)
