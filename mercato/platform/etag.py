"""ETag, If-None-Match and Cache-Control for cacheable public reads: a client (or the gateway's cache, or a
CDN) keeps the answer for `max_age` seconds, then revalidates it for the price of a hash.

`Cache-Control: public` lets a shared cache (the gateway's) keep the answer for everyone; it is only
given to a request whose query parameters are all ones the operation reads (`query`, `query_prefixes`):
an unknown parameter (`?x=1`, `?x=2`, ...) changes nothing in the answer but would be a new entry in a
shared cache each time, so such answers are `private` (the client's own cache only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Header, Request
from pydantic import BaseModel
from starlette.responses import Response

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=2000,
        description="ETags of copies the client has: if one is current, the answer is 304 without a body.",
    ),
]
_HEADERS = {
    "ETag": {"description": "The answer's version (a hash of its body).", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`public` (or `private`: the request had an unknown query parameter), then "
        "`max-age` in seconds and `must-revalidate`, or `no-cache` (revalidate at every use).",
        "schema": {"type": "string"},
    },
}
CACHEABLE: dict[int | str, dict[str, Any]] = {
    200: {"headers": _HEADERS},
    304: {
        "description": "Not Modified: the client's copy (its `If-None-Match`) is current.",
        "headers": _HEADERS,
    },
}
"""The OpenAPI `responses` of an operation answered by `cacheable_bytes`."""


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as If-None-Match asks: `W/"x"` matches `"x"` either way round."""
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag.removeprefix("W/") in candidates


def shared(request: Request, query: Collection[str], query_prefixes: tuple[str, ...] = ()) -> bool:
    """Whether every query parameter of the request is one the operation reads."""
    return all(name in query or name.startswith(query_prefixes) for name in request.query_params)


def cacheable_bytes(
    request: Request,
    body: bytes,
    *,
    if_none_match: str | None,
    max_age: int,
    query: Collection[str] = (),
    query_prefixes: tuple[str, ...] = (),
    weak: bool = False,
    personal: bool = False,
) -> Response:
    """JSON `body` with a strong ETag (`weak`: a weak one, which the gateway keeps when it compresses the
    body); 304 with no body when the client already has it. A `personal` answer is `private` whatever the
    query."""
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    if weak:
        etag = "W/" + etag
    scope = "public" if not personal and shared(request, query, query_prefixes) else "private"
    # max-age=0 would not do for 0: caches count age in whole seconds, and Envoy's serves an answer while
    # its age is at most max-age — for the best part of a second. no-cache: kept, but asked about each time.
    freshness = f"max-age={max_age}, must-revalidate" if max_age > 0 else "no-cache"
    headers = {"ETag": etag, "Cache-Control": f"{scope}, {freshness}"}
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def cacheable_json(
    request: Request,
    model: BaseModel,
    *,
    if_none_match: str | None,
    max_age: int,
    query: Collection[str] = (),
    query_prefixes: tuple[str, ...] = (),
) -> Response:
    """The model as JSON, as `cacheable_bytes` answers."""
    return cacheable_bytes(
        request,
        model.model_dump_json().encode(),
        if_none_match=if_none_match,
        max_age=max_age,
        query=query,
        query_prefixes=query_prefixes,
    )
