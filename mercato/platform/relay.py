"""The outbox relay: publishes events that committed with their state change, in order, exactly once
as far as the broker can tell.

It reads a batch of unpublished outbox rows in position order, publishes them with their event ids as
the broker's dedup ids (`Nats-Msg-Id` on NATS; the message id elsewhere) — on NATS all at once on one
connection, their acknowledgements awaited together — then marks with one statement the rows acknowledged
up to the first that was not. A crash between publishing and marking re-publishes those rows on
restart; NATS drops the duplicates and consumers dedup by event id besides. The first row not
acknowledged, and every row after it, is published again after an exponential backoff, so no later
event of an aggregate is marked before an earlier one. (Should the broker refuse one event yet store
the next — it takes them in order on one connection, so only a fault of that one message would — the
next would be in the stream before it; consumers dedup, and handlers tolerate order within a retry
anyway.) Nothing is ever lost: a row stays until the broker has acknowledged it.

It wakes as soon as a unit of work that recorded events commits (and polls besides, for rows written
by another process). With several replicas of a service, only the holder of the relay lease relays —
a PostgreSQL advisory lock, or a file lock next to a SQLite database — so order per aggregate holds;
when the holder dies, its lock goes with it and another replica takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text, update

from mercato.platform import tracing
from mercato.platform.broker import EventPublisher
from mercato.platform.db import Database
from mercato.platform.messaging import OutboundEvent, PublishStopped
from mercato.platform.tables import outbox

log = logging.getLogger("mercato.relay")

ADVISORY_LOCK_KEY = 0x6D65726361746F  # "mercato": one relay per database


class RelayLease:
    """Who may relay this database's outbox: one process at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: Any = None
        self._file: int | None = None

    async def acquire(self) -> bool:
        """True while this process holds the lease (taking it if free)."""
        if self.db.is_sqlite:
            return self._acquire_file_lock()
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception:
                await self.release()  # the session (and its lock) is gone
        connection = await self.db.writer.connect()
        try:
            held = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            ).scalar()
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not held:
            await connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file_lock(self) -> bool:
        if self._file is not None:
            return True
        database = self.db.url.database
        if not database or database == ":memory:":
            return True
        fd = os.open(f"{database}.relay-lease", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.execute(text("SELECT pg_advisory_unlock_all()"))
            with contextlib.suppress(Exception):
                await connection.close()
        fd, self._file = self._file, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


class Relay:
    def __init__(
        self, db: Database, publisher: EventPublisher, *, batch_size: int = 500, service: str = ""
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.batch_size = batch_size
        self.failures = 0  # consecutive, for the backoff
        self.lease = RelayLease(db)
        # Tests only: when this file exists, die halfway through a batch (published, not yet marked).
        # `{service}` in the path picks one service's relay.
        hook = os.environ.get("MERCATO_RELAY_CRASH_HOOK_FILE")
        self.crash_hook = hook.replace("{service}", service) if hook else None
        self.wakeup = asyncio.Event()
        db.on_outbox_commit = self.wakeup.set

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
                        outbox.c.aggregate_id,
                        outbox.c.envelope,
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0  # idle: no write transaction (on SQLite, no write lock) every poll
        events = [_outbound(row) for row in rows]
        if len(events) > 1 and self._crash_hook_armed():
            await self._publish_half_and_die(events)
        try:
            with tracing.span(
                "publish",
                kind=tracing.PRODUCER,
                parent="",  # the relay's own trace, linked to each event's producer
                attributes={"messaging.operation.type": "send", "messaging.batch.message_count": len(rows)},
                links=[row.envelope.get("traceparent") for row in rows],
            ):
                await self.publisher.publish(events)
            published, error = len(rows), None
        except PublishStopped as stopped:  # the broker is down or refused: keep order, retry later
            published, error = stopped.published, stopped.error
        except Exception as exc:  # no connection to the broker
            published, error = 0, exc
        async with self.db.unit_of_work() as session:
            if published:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.position.in_([row.position for row in rows[:published]]))
                    .values(published_at=datetime.now(UTC))
                )
            if error is not None:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.position == rows[published].position)
                    .values(
                        attempts=outbox.c.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:500]
                    )
                )
        if error is not None:
            raise error
        return published

    def _crash_hook_armed(self) -> bool:
        if self.crash_hook and os.path.exists(self.crash_hook):
            os.remove(self.crash_hook)  # once: the restarted process must get past this point
            return True
        return False

    async def _publish_half_and_die(self, events: list[OutboundEvent]) -> None:
        """Tests only (the crash hook): publish the first half of a batch, then die before marking."""
        await self.publisher.publish(events[: len(events) // 2])
        log.error("crash hook: exiting mid-batch, before marking", extra={"published": len(events) // 2})
        os._exit(137)

    async def run(self, *, idle_seconds: float = 0.5, max_backoff: float = 30.0) -> None:
        """Relay forever while holding the lease: straight on while there is a backlog, woken by
        commits (or a poll) when idle, backoff on errors."""
        try:
            while True:
                try:
                    if not await self.lease.acquire():
                        await asyncio.sleep(idle_seconds * 4)  # another replica relays
                        continue
                    self.wakeup.clear()
                    count = await self.relay_once()
                    self.failures = 0
                    if count < self.batch_size:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.wakeup.wait(), idle_seconds)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.failures += 1
                    delay = min(max_backoff, 0.5 * 2 ** (self.failures - 1))
                    log.warning(
                        "relay could not publish; retrying", extra={"error": str(exc), "retry_in_s": delay}
                    )
                    await asyncio.sleep(delay)
        finally:
            await self.lease.release()

    async def lag(self) -> tuple[int, float]:
        """(unpublished events, age in seconds of the oldest one): the outbox lag."""
        async with self.db.read_one(counted=False) as connection:
            count, oldest = (
                await connection.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        if not oldest:
            return 0, 0.0
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        return count, (datetime.now(UTC) - oldest).total_seconds()


def _outbound(row: Any) -> OutboundEvent:
    headers = {"traceparent": row.envelope["traceparent"]} if row.envelope.get("traceparent") else {}
    return OutboundEvent(
        event_id=row.event_id,
        event_type=row.event_type,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        body=orjson.dumps(row.envelope),
        headers=headers,
    )
