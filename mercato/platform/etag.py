"""ETag and If-None-Match for cacheable reads: a client (or CDN) revalidates for the price of a hash."""

from __future__ import annotations

import hashlib

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in candidates


def cacheable_json(request: Request, model: BaseModel, *, max_age: int = 0) -> Response:
    """The model as JSON with a strong ETag; 304 with no body when the client already has it."""
    body = model.model_dump_json().encode()
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}, must-revalidate"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
