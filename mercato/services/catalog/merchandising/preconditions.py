"""ETags and If-Match: two merchandisers editing one product can't silently overwrite each other.

A product's ETag is a hash of its admin representation (`AdminProduct` as JSON), so it changes with
anything an editor sees — a renamed category included — and with nothing else (stock is not in it).
A write that names the ETag it started from (`If-Match`) is refused with 412 if the product has changed
since; a PATCH without `If-Match` is refused with 428, because a blind overwrite is exactly what this
prevents. The check and the write happen in one transaction, the product row locked (FOR UPDATE).
"""

from __future__ import annotations

import hashlib

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from mercato.platform.errors import Problem


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "Precondition required"


def body_of(model: BaseModel) -> bytes:
    """The JSON a model is sent as (the same bytes `idempotent` stores for a replay)."""
    return model.model_dump_json().encode()


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _listed(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    for candidate in (tag.strip() for tag in header.split(",")):
        if candidate.startswith("W/"):
            if not weak:  # If-Match compares strongly: a weak tag never matches
                continue
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def check_if_match(if_match: str | None, current: BaseModel, *, required: bool) -> None:
    """Refuse a write whose If-Match does not name the current representation's ETag."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag of the product as you last read it.",
                errors={"If-Match": "is required"},
            )
        return
    if not _listed(if_match, etag_of(body_of(current)), weak=False):
        raise PreconditionFailed(
            "The product was changed since you read it: load it again and redo your change.",
            errors={"If-Match": "is not the product's current ETag"},
        )


def json_with_etag(request: Request, model: BaseModel, *, status_code: int = 200) -> Response:
    """The model as JSON with its ETag; 304 when If-None-Match already names it. Staff data: only the
    admin app may keep a copy, and it must revalidate it (`private, no-cache`)."""
    body = body_of(model)
    headers = {"ETag": etag_of(body), "Cache-Control": "private, no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if status_code == 200 and if_none_match and _listed(if_none_match, headers["ETag"], weak=True):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def with_etag(response: Response, *, location: str | None = None) -> Response:
    """Add the ETag of a JSON response's body (e.g. one `idempotent` built or replayed)."""
    if 200 <= response.status_code < 300:
        response.headers["ETag"] = etag_of(bytes(response.body))
        response.headers["Cache-Control"] = "private, no-cache"
        if location:
            response.headers["Location"] = location
    return response
