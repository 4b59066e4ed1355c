"""The outbox relay: publishes events that committed with their state change, in order, exactly once
as far as the broker can tell.

It reads unpublished outbox rows in position order, publishes each with its event id as the
broker's dedup id (`Nats-Msg-Id`), then marks the batch published. A crash between publishing and
marking re-publishes those rows on restart; the broker drops the duplicates (and consumers dedup by
event id besides). A failed publish stops the batch, so no later event of an aggregate overtakes an
earlier one, and is retried with exponential backoff. Nothing is ever lost: a row stays until the
broker has acknowledged it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import orjson
from sqlalchemy import func, select, update

from mercato.platform.broker import subject
from mercato.platform.db import Database
from mercato.platform.tables import outbox

log = logging.getLogger("mercato.relay")

Publish = Callable[[str, bytes, dict[str, str]], Awaitable[None]]


class Relay:
    def __init__(self, db: Database, publish: Publish, *, batch_size: int = 200) -> None:
        self.db = db
        self.publish = publish
        self.batch_size = batch_size
        self.failures = 0  # consecutive, for the backoff

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        outbox.c.position,
                        outbox.c.event_id,
                        outbox.c.event_type,
                        outbox.c.aggregate_type,
                        outbox.c.envelope,
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0  # idle: no write transaction (on SQLite, no write lock) every poll
        published: list[int] = []
        error: Exception | None = None
        for row in rows:
            headers = {"Nats-Msg-Id": row.event_id, "event-type": row.event_type}
            if traceparent := row.envelope.get("traceparent"):
                headers["traceparent"] = traceparent
            try:
                await self.publish(
                    subject(row.aggregate_type, row.event_type), orjson.dumps(row.envelope), headers
                )
            except Exception as exc:  # the broker is down or refused: keep order, retry later
                error = exc
                break
            published.append(row.position)
        async with self.db.unit_of_work() as session:
            if published:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.position.in_(published))
                    .values(published_at=datetime.now(UTC))
                )
            if error is not None:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.position == rows[len(published)].position)
                    .values(
                        attempts=outbox.c.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:500]
                    )
                )
        if error is not None:
            raise error
        return len(published)

    async def run(self, *, idle_seconds: float = 0.2, max_backoff: float = 30.0) -> None:
        """Relay forever: straight on while there is a backlog, a short nap when idle, backoff on errors."""
        while True:
            try:
                count = await self.relay_once()
                self.failures = 0
                if count < self.batch_size:
                    await asyncio.sleep(idle_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                delay = min(max_backoff, 0.5 * 2 ** (self.failures - 1))
                log.warning(
                    "relay could not publish; retrying", extra={"error": str(exc), "retry_in_s": delay}
                )
                await asyncio.sleep(delay)

    async def lag(self) -> tuple[int, float]:
        """(unpublished events, age in seconds of the oldest one): the outbox lag."""
        async with self.db.read() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        if not oldest:
            return 0, 0.0
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        return count, (datetime.now(UTC) - oldest).total_seconds()
