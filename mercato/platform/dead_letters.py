"""`/internal/dead-letters`: what an operator needs to see and replay a consuming service's dead letters.

Private to the service (the gateway never routes `/internal`); `mercato events dead-letters …` is its
command-line face.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.convertors import StringConvertor, register_url_convertor

from mercato.platform.app import ReadSession
from mercato.platform.consumers import EventConsumer, ReplayFailed
from mercato.platform.errors import Conflict, NotFound
from mercato.platform.tables import dead_letters


class _DeadLetterId(StringConvertor):
    """Only a dead letter's id matches `/{id}`, so `/replay` (every dead letter) is never read as one."""

    regex = "dl_[0-9A-HJKMNP-TV-Z]{26}"


register_url_convertor("dead_letter_id", _DeadLetterId())


class DeadLetterSummary(BaseModel):
    id: str
    event_id: str
    event_type: str
    handler: str
    attempts: int
    error: str
    status: Literal["dead", "replayed"]
    created_at: datetime
    updated_at: datetime


class DeadLetter(DeadLetterSummary):
    envelope: dict[str, Any]


class DeadLetterList(BaseModel):
    data: list[DeadLetterSummary]


class ReplayResult(BaseModel):
    id: str
    status: Literal["replayed"]
    took_effect: bool


class ReplayReport(BaseModel):
    replayed: list[str]
    failed: dict[str, str]


def _consumer(request: Request) -> EventConsumer:
    return request.app.state.consumer


router = APIRouter(prefix="/internal/dead-letters", tags=["dead letters"])


@router.get("", response_model=DeadLetterList, summary="Dead letters, newest first")
async def list_dead_letters(
    session: ReadSession,
    status: Literal["dead", "replayed", "all"] = "dead",
    limit: int = Query(100, ge=1, le=1000),
) -> DeadLetterList:
    query = select(dead_letters).order_by(dead_letters.c.created_at.desc()).limit(limit)
    if status != "all":
        query = query.where(dead_letters.c.status == status)
    rows = (await session.execute(query)).mappings().all()
    return DeadLetterList(
        data=[
            DeadLetterSummary.model_validate({**row, "error": row["error"].splitlines()[0]}) for row in rows
        ]
    )


@router.get(
    "/{dead_letter_id:dead_letter_id}",
    response_model=DeadLetter,
    summary="One dead letter with its event and error",
)
async def get_dead_letter(dead_letter_id: str, session: ReadSession) -> DeadLetter:
    row = (
        (await session.execute(select(dead_letters).where(dead_letters.c.id == dead_letter_id)))
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"No dead letter {dead_letter_id}.")
    return DeadLetter.model_validate(dict(row))


@router.post(
    "/{dead_letter_id:dead_letter_id}/replay", response_model=ReplayResult, summary="Run its handler again"
)
async def replay_dead_letter(dead_letter_id: str, request: Request) -> ReplayResult:
    try:
        return ReplayResult.model_validate(await _consumer(request).replay(dead_letter_id))
    except LookupError:
        raise NotFound(f"No dead letter {dead_letter_id}.") from None
    except ReplayFailed as exc:
        raise Conflict(f"The handler failed again: {exc}", slug="replay-failed") from None


@router.post(
    "/replay", response_model=ReplayReport, summary="Replay every dead letter (optionally of one handler)"
)
async def replay_all(request: Request, session: ReadSession, handler: str | None = None) -> ReplayReport:
    query = (
        select(dead_letters.c.id).where(dead_letters.c.status == "dead").order_by(dead_letters.c.created_at)
    )
    if handler:
        query = query.where(dead_letters.c.handler == handler)
    ids = (await session.execute(query)).scalars().all()
    await session.close()  # don't hold a read snapshot while replaying
    report = ReplayReport(replayed=[], failed={})
    for dead_letter_id in ids:
        try:
            await _consumer(request).replay(dead_letter_id)
            report.replayed.append(dead_letter_id)
        except ReplayFailed as exc:
            report.failed[dead_letter_id] = str(exc)
    return report
