"""Product images for both front ends: the catalog serves them behind the gateway (`/api/v1/images/…`,
the URL every product carries), and each front end relays them at the same path, same origin — so an
image URL from the API works as it is on the shop's pages and on the back office's."""

from __future__ import annotations

import re

from fastapi import Response

from mercato.webkit.gateway import GatewayClient, NotFound

IMAGE = re.compile(r"^[A-Za-z0-9_-]{1,200}\.[a-z0-9]{1,8}$")
IMAGE_PATH = "/api/v1/images/{name}"


async def image_response(gateway: GatewayClient, name: str) -> Response:
    """The image `name` as the catalog serves it (type, ETag, caching), locked down by its own CSP."""
    if not IMAGE.match(name):
        raise NotFound("catalog", name)
    upstream = await gateway.image(name)
    headers = {
        "cache-control": upstream.headers.get("cache-control", "public, max-age=86400"),
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    if etag := upstream.headers.get("etag"):
        headers["etag"] = etag
    media_type = upstream.headers.get("content-type", "application/octet-stream")
    return Response(upstream.content, media_type=media_type, headers=headers)
