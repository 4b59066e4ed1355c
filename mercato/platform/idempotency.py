"""Idempotency-Key: a retried write returns the first response instead of doing the work twice.

The key is claimed by inserting its row in the same transaction as the work it guards, so the claim,
the effect and the stored response commit together or not at all: a failed attempt leaves no trace
and may be retried; a concurrent duplicate waits on the row (PostgreSQL) or the writer (SQLite) and
then replays the stored response. The same key with a different body is a 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Header
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato.platform.db import insert_or_merge
from mercato.platform.errors import BadRequest, Conflict
from mercato.platform.tables import idempotency_keys

KEEP_FOR = timedelta(hours=24)

KEY_PATTERN = r"^[!-~]+$"  # visible ASCII, e.g. a UUID

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        pattern=KEY_PATTERN,
        description="Unique per logical operation; a retry with the same key returns the first response.",
    ),
]

RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        pattern=KEY_PATTERN,
        description="Required: unique per logical operation; a retry with the same key returns the first "
        "response, and never does the work twice.",
    ),
]


def _fingerprint(request: BaseModel | dict[str, Any] | None) -> str:
    data = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def idempotent(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    request: BaseModel | dict[str, Any] | None,
    run: Callable[[], Awaitable[BaseModel]],
    status_code: int = 201,
    required: bool = False,
) -> Response:
    """Run `run()` at most once per (scope, key); returns the JSON response, stored for replays."""
    if key is None:
        if required:
            raise BadRequest(
                "This request needs an Idempotency-Key header.", errors={"Idempotency-Key": "is required"}
            )
        return _json(status_code, await run())
    if not key.strip() or not key.isprintable():
        raise BadRequest("The Idempotency-Key header is not valid.", errors={"Idempotency-Key": "is invalid"})

    fingerprint = _fingerprint(request)
    claimed = await session.execute(
        insert_or_merge(session, idempotency_keys)
        .values(scope=scope, key=key, request_hash=fingerprint, created_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )
    if claimed.rowcount == 1:
        result = await run()
        response = _json(status_code, result)
        await session.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(status_code=status_code, response_body=response.body)
        )
        return response

    stored = (
        await session.execute(
            select(idempotency_keys).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        )
    ).one()
    if stored.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request.",
            errors={"Idempotency-Key": "was used for a different request"},
        )
    if stored.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    return Response(
        stored.response_body,
        status_code=stored.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def _json(status_code: int, result: BaseModel) -> Response:
    return Response(result.model_dump_json().encode(), status_code=status_code, media_type="application/json")


async def purge_expired_keys(session: AsyncSession, *, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - KEEP_FOR
    result = await session.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))
    return result.rowcount or 0
