"""Consuming events: durable subscriptions, exactly-once effects, batches, retries, dead letters.

A service declares its handlers in its `consumers.py` (see `handlers.py`: one event at a time, or a
batch at once) and passes them to `create_app(handlers=...)`. The kernel then, for every aggregate
the handlers listen to, keeps one durable subscription on the broker (see `broker.py`) and handles
what it delivers a batch at a time:

* **exactly once in effect** — handlers run inside a unit of work that also inserts an inbox row per
  (event id, handler); a redelivered event finds its row and is skipped. Effects outside the database
  (an e-mail) are queued in that transaction and done after commit (`context.after_commit`).
* **a batch in one transaction** — one inbox query, each handler once per run of consecutive events
  it handles (a batch handler gets the run at once, so it can write it with a statement or two), one
  insert of the inbox rows, one commit. If anything in it fails, its events are handled again one at
  a time, each in a transaction of its own, so a bad event costs only itself.
* **retries that hold nobody up** — an event a handler failed on goes back to the broker, to be
  delivered again after a backoff (`retry_base_seconds` doubling up to `retry_max_seconds`), while the
  events behind it flow (a handler may fail because something it needs has not arrived yet). Events of
  one aggregate may then take effect out of order, as they do when a dead letter is replayed later;
  handlers are written for that (snapshots ordered by their time, tombstones, …).
* **dead letters** — an event that failed on its `max_attempts`th delivery is parked in the
  service's `dead_letters` table with its error and acknowledged. An operator lists, inspects and
  replays dead letters with `mercato events dead-letters …` (through `/internal/dead-letters` of the
  running service), after fixing the cause; a replay that succeeds takes effect once, like any delivery.
* **trace context** — a handler of one event runs in the trace of the event's `traceparent`, and
  events it records continue that trace; a batch handler gets each event's `traceparent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import EVENT_TYPES, Event
from mercato.platform.broker import Broker, BrokerSettings
from mercato.platform.db import Database, insert_or_merge
from mercato.platform.handlers import BatchContext, Handler, Handlers, Received
from mercato.platform.ids import new_id
from mercato.platform.messaging import Delivery
from mercato.platform.tables import dead_letters, inbox

log = logging.getLogger("mercato.consumer")


class ConsumerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_CONSUMER_", extra="ignore")

    max_attempts: int = 8
    retry_base_seconds: float = 0.25  # 0.25, 0.5, 1, 2, 4, 8, 10: about half a minute in all
    retry_max_seconds: float = 10.0
    batch_size: int = 256


class ReplayFailed(Exception):
    pass


@dataclass
class _Work:
    """One handler's share of one delivered event."""

    delivery: Delivery
    envelope: dict[str, Any]
    event: Event | None  # None: the payload did not parse (a poison message)
    handler: Handler
    parse_error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope["event_id"], self.handler.name

    def received(self) -> Received[Any]:
        return Received(
            event=self.event,
            event_id=self.envelope["event_id"],
            occurred_at=datetime.fromisoformat(self.envelope["occurred_at"]),
            traceparent=self.envelope.get("traceparent"),
            attempt=self.delivery.attempt,
        )


class EventConsumer:
    def __init__(
        self,
        *,
        handlers: Handlers,
        db: Database,
        app: Any,
        broker_settings: BrokerSettings,
        settings: ConsumerSettings | None = None,
        metrics: Any = None,
    ) -> None:
        self.handlers = handlers
        self.db = db
        self.app = app
        self.broker_settings = broker_settings
        self.settings = settings or ConsumerSettings()
        self.metrics = metrics
        self.broker: Broker | None = None
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background, retrying until the broker is reachable: the service serves
        meanwhile, and its subscriptions catch up once connected."""
        self._task = asyncio.create_task(self._connect_forever())

    async def _connect_forever(self) -> None:
        delay = 0.5
        while True:
            broker = Broker(self.broker_settings, batch_size=self.settings.batch_size)
            for subscription in self.handlers.subscriptions():
                broker.subscribe(subscription, self.on_deliveries)
            try:
                await broker.start()
            except Exception as exc:
                await broker.stop()
                log.warning(
                    "consumer cannot reach the broker; retrying",
                    extra={"error": str(exc), "retry_in_s": delay},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.broker = broker
            names = [s.name for s in self.handlers.subscriptions()]
            log.info("consumer subscribed", extra={"subscriptions": names})
            return

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.broker:
            await self.broker.stop()
            self.broker = None

    async def lag(self) -> dict[str, int]:
        """Per subscription, the events waiting for this consumer on the broker (none: not connected)."""
        return await self.broker.lag() if self.broker else {}

    # --- handling ---------------------------------------------------------------------------------
    def _work(self, deliveries: list[Delivery]) -> list[_Work]:
        work: list[_Work] = []
        for delivery in deliveries:
            try:
                envelope = orjson.loads(delivery.body)
                event_type = envelope["type"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.error(
                    "dropping a message that is not an event envelope", extra={"headers": delivery.headers}
                )
                continue
            if "traceparent" not in envelope and "traceparent" in delivery.headers:
                envelope["traceparent"] = delivery.headers["traceparent"]
            for handler in self.handlers.for_type(event_type):
                try:
                    event = EVENT_TYPES[event_type].model_validate(envelope["payload"])
                    work.append(_Work(delivery, envelope, event, handler))
                except (ValidationError, KeyError) as exc:
                    error = f"unreadable payload: {exc}"
                    work.append(_Work(delivery, envelope, None, handler, parse_error=error))
        return work

    async def on_deliveries(self, deliveries: list[Delivery]) -> None:
        """Handle a batch: in one transaction if everything succeeds, else one event at a time; an event
        that failed is set to come again later (`Delivery.retry_after`) or dead-lettered."""
        work = self._work(deliveries)
        if not work:
            return
        if all(item.event is not None for item in work):
            try:
                async with self.db.unit_of_work() as session:
                    await self._run_batch(session, work)
                self._count(work, "processed")
                return
            except Exception as exc:
                if len(work) == 1:  # that was this event's attempt
                    await self._failed(work[0], _describe(exc))
                    return
                log.info("batch failed; handling its events one at a time", extra={"error": str(exc)})
        for item in work:
            try:
                async with self.db.unit_of_work() as session:
                    await self._run(session, item)
            except Exception as exc:
                await self._failed(item, _describe(exc))
                continue
            self._count([item], "processed")

    async def _run_batch(self, session: AsyncSession, work: list[_Work]) -> None:
        """The fast path: one query for what already took effect, each handler once per run of
        consecutive events it handles, one insert of the inbox rows. (A concurrent duplicate makes that
        insert fail, and the batch is redone one at a time.)"""
        rows = await session.execute(
            select(inbox.c.event_id, inbox.c.handler).where(
                inbox.c.event_id.in_({item.envelope["event_id"] for item in work})
            )
        )
        done = {(row.event_id, row.handler) for row in rows}
        todo = []
        for item in work:
            if item.key not in done:  # else a redelivery, or twice in this batch: it took effect
                done.add(item.key)
                todo.append(item)
        context = BatchContext(app=self.app, session=session)
        for handler, run in itertools.groupby(todo, key=lambda item: item.handler):
            await handler.run(session, [item.received() for item in run], context)
        if todo:
            now = datetime.now(UTC)
            await session.execute(
                inbox.insert(),
                [{"event_id": item.key[0], "handler": item.key[1], "processed_at": now} for item in todo],
            )
        await _before_commit(session)

    async def _run(self, session: AsyncSession, item: _Work) -> bool:
        """Run one handler for one event inside `session`; False if it had already taken effect."""
        claimed = await session.execute(
            insert_or_merge(session, inbox)
            .values(event_id=item.key[0], handler=item.key[1], processed_at=datetime.now(UTC))
            .on_conflict_do_nothing()
        )
        if claimed.rowcount == 0:
            return False  # a redelivery: this handler already took effect
        if item.event is None:
            raise ValueError(item.parse_error)
        await item.handler.run(session, [item.received()], BatchContext(app=self.app, session=session))
        await _before_commit(session)
        return True

    async def _failed(self, item: _Work, error: str) -> None:
        """After a failed attempt: the broker delivers the event again after a backoff, or, on its last
        attempt (or if it can't be read at all), it is dead-lettered."""
        attempt = item.delivery.attempt
        if item.event is None or attempt >= self.settings.max_attempts:
            await self._dead_letter(item, attempts=attempt, error=error)
            return
        delay = min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2 ** (attempt - 1))
        item.delivery.retry_after = max(item.delivery.retry_after or 0.0, delay)
        log.warning(
            "handler failed; the event will come again",
            extra={
                "handler": item.handler.name,
                "event_id": item.envelope.get("event_id"),
                "attempt": attempt,
                "retry_in_s": delay,
                "error": error.splitlines()[0],
            },
        )
        self._count([item], "retried")

    async def _dead_letter(self, item: _Work, *, attempts: int, error: str) -> None:
        now = datetime.now(UTC)
        async with self.db.unit_of_work() as session:
            await session.execute(
                insert_or_merge(session, dead_letters)
                .values(
                    id=new_id("dl"),
                    event_id=item.envelope["event_id"],
                    event_type=item.envelope["type"],
                    handler=item.handler.name,
                    envelope=item.envelope,
                    attempts=attempts,
                    error=error[:2000],
                    status="dead",
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["event_id", "handler"],
                    set_={"attempts": attempts, "error": error[:2000], "status": "dead", "updated_at": now},
                )
            )
        self._count([item], "dead_lettered")
        log.error(
            "event dead-lettered",
            extra={
                "handler": item.handler.name,
                "event_id": item.envelope["event_id"],
                "event_type": item.envelope["type"],
                "attempts": attempts,
                "error": error.splitlines()[0],
            },
        )

    async def replay(self, dead_letter_id: str) -> dict[str, Any]:
        """Run the handler of a dead letter once more; on success it is marked replayed."""
        async with self.db.read() as session:
            row = (
                (await session.execute(select(dead_letters).where(dead_letters.c.id == dead_letter_id)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise LookupError(dead_letter_id)
        handler = self.handlers.named(row["handler"])
        if handler is None:
            raise ReplayFailed(f"this service has no handler named {row['handler']!r} any more")
        delivery = Delivery(orjson.dumps(row["envelope"]), attempt=row["attempts"] + 1)
        [item] = [w for w in self._work([delivery]) if w.handler is handler]
        try:
            async with self.db.unit_of_work() as session:
                took_effect = await self._run(session, item)
                await session.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == dead_letter_id)
                    .values(status="replayed", updated_at=datetime.now(UTC))
                )
        except Exception as exc:
            error = _describe(exc)
            async with self.db.unit_of_work() as session:
                await session.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == dead_letter_id)
                    .values(
                        attempts=dead_letters.c.attempts + 1, error=error[:2000], updated_at=datetime.now(UTC)
                    )
                )
            raise ReplayFailed(error.splitlines()[0]) from exc
        self._count([item], "replayed")
        return {"id": dead_letter_id, "status": "replayed", "took_effect": took_effect}

    def _count(self, work: list[_Work], outcome: str) -> None:
        if self.metrics is None:
            return
        for item in work:
            self.metrics.consumed(item.handler.name, item.envelope["type"], outcome)


async def _before_commit(session: AsyncSession) -> None:
    for callback in session.info.pop("before_commit", {}).values():
        await callback()


def _describe(exc: BaseException) -> str:
    return (
        "".join(traceback.format_exception_only(type(exc), exc)).strip()
        + "\n"
        + "".join(traceback.format_tb(exc.__traceback__, limit=8))
    )
