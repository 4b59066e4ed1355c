"""Consuming events: durable subscriptions, exactly-once effects, retries, dead letters.

A service declares its handlers in its `consumers.py`:

    handlers = Handlers("notifications")

    @handlers.on(OrderPlaced)
    async def send_order_confirmation(session, event: OrderPlaced, context: HandlerContext) -> None:
        ...

and passes them to `create_app(handlers=...)`. The kernel then, for every aggregate the handlers
listen to, keeps one durable subscription on the broker (see `broker.py`) and for each delivered
event and each handler interested in it:

* **exactly once in effect** — the handler runs inside a unit of work that also inserts an inbox row
  keyed by (event id, handler); a redelivered event finds its row and is skipped. Effects outside the
  database (an e-mail) are queued in that transaction and done after commit (`context.after_commit`).
* **in order** — deliveries of a subscription are handled one batch at a time, in order; a batch
  runs in one transaction (the fast path) and, if anything in it fails, again one event at a time.
* **retries with backoff** — a failing handler is retried `max_attempts` times with exponential
  backoff (a handler may fail because something it needs has not arrived yet);
* **dead letters** — then the event is parked in the service's `dead_letters` table with its error
  and acknowledged, so the others flow. An operator lists, inspects and replays dead letters with
  `mercato events dead-letters …` (through `/internal/dead-letters` of the running service), after
  fixing the cause; a replay that succeeds takes effect once, like any delivery.
* **trace context** — the handler runs in the trace of the event's `traceparent`, and events it
  records continue that trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import EVENT_TYPES, Event
from mercato.platform import tracing
from mercato.platform.broker import Broker, BrokerSettings, Delivery, Subscription
from mercato.platform.db import Database, after_commit, insert_or_merge
from mercato.platform.ids import new_id
from mercato.platform.tables import dead_letters, inbox

log = logging.getLogger("mercato.consumer")


class ConsumerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_CONSUMER_", extra="ignore")

    max_attempts: int = 8
    retry_base_seconds: float = 0.25  # 0.25, 0.5, 1, 2, 4, 8, 10: about half a minute in all
    retry_max_seconds: float = 10.0
    batch_size: int = 100


@dataclass
class HandlerContext:
    """What a handler gets besides its session and event."""

    app: Any  # the service's application: its state holds settings and clients
    event_id: str
    occurred_at: datetime
    attempt: int
    session: AsyncSession

    def after_commit(self, callback: Callable[[], Any]) -> None:
        """Do something outside the database once this handler's transaction has committed."""
        after_commit(self.session, callback)

    def before_commit(self, key: str, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` once, after every handler of the batch ran and before its transaction commits
        (registering the same `key` again in the batch keeps the first): for an effect outside the
        database that must be done before the inbox says the events were handled — e.g. one commit of a
        search index for a whole batch. If it raises, the batch is rolled back and retried."""
        self.session.info.setdefault("before_commit", {}).setdefault(key, callback)


HandlerFunction = Callable[[AsyncSession, Any, HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    name: str
    events: tuple[type[Event], ...]
    run: HandlerFunction


@dataclass
class Handlers:
    """A service's event handlers, by name (the function's name: it keys the inbox and dead letters)."""

    service: str
    start: Literal["new", "all"] = "new"
    handlers: list[Handler] = field(default_factory=list)

    def on(self, *events: type[Event]) -> Callable[[HandlerFunction], HandlerFunction]:
        def register(function: HandlerFunction) -> HandlerFunction:
            if any(h.name == function.__name__ for h in self.handlers):
                raise ValueError(f"two handlers named {function.__name__}")
            self.handlers.append(Handler(function.__name__, events, function))
            return function

        return register

    def for_type(self, event_type: str) -> list[Handler]:
        return [h for h in self.handlers if any(e.type == event_type for e in h.events)]

    def named(self, name: str) -> Handler | None:
        return next((h for h in self.handlers if h.name == name), None)

    def subscriptions(self) -> list[Subscription]:
        by_aggregate: dict[str, list[str]] = {}
        for handler in self.handlers:
            for event in handler.events:
                types = by_aggregate.setdefault(event.aggregate, [])
                if event.type not in types:
                    types.append(event.type)
        return [
            Subscription(self.service, aggregate, tuple(types), self.start)
            for aggregate, types in by_aggregate.items()
        ]


class ReplayFailed(Exception):
    pass


@dataclass
class _Work:
    envelope: dict[str, Any]
    event: Event | None  # None: the payload did not parse (a poison message)
    handler: Handler
    parse_error: str | None = None


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
                    work.append(_Work(envelope, event, handler))
                except (ValidationError, KeyError) as exc:
                    work.append(_Work(envelope, None, handler, parse_error=f"unreadable payload: {exc}"))
        return work

    async def on_deliveries(self, deliveries: list[Delivery]) -> None:
        """Handle a batch: in one transaction if everything succeeds, else one by one with retries."""
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
                if len(work) == 1:  # that was the first attempt of its only event
                    await self._process_with_retries(work[0], failed_attempts=1, error=_describe(exc))
                    return
                log.info("batch failed; handling its events one by one", extra={"error": str(exc)})
        for item in work:
            await self._process_with_retries(item)

    async def _run_batch(self, session: AsyncSession, work: list[_Work]) -> None:
        """The fast path: one query for what already took effect, the handlers, one insert of the
        inbox rows. (A concurrent duplicate makes that insert fail, and the batch is redone one by one.)"""
        rows = await session.execute(
            select(inbox.c.event_id, inbox.c.handler).where(
                inbox.c.event_id.in_({item.envelope["event_id"] for item in work})
            )
        )
        done = {(row.event_id, row.handler) for row in rows}
        now = datetime.now(UTC)
        claimed = []
        for item in work:
            key = (item.envelope["event_id"], item.handler.name)
            if key in done:
                continue  # a redelivery: this handler already took effect
            done.add(key)
            await self._handle(session, item, attempt=1)
            claimed.append({"event_id": key[0], "handler": key[1], "processed_at": now})
        if claimed:
            await session.execute(inbox.insert(), claimed)
        await _before_commit(session)

    async def _run(self, session: AsyncSession, item: _Work, *, attempt: int) -> bool:
        """Run one handler for one event inside `session`; False if it had already taken effect."""
        event_id = item.envelope["event_id"]
        claimed = await session.execute(
            insert_or_merge(session, inbox)
            .values(event_id=event_id, handler=item.handler.name, processed_at=datetime.now(UTC))
            .on_conflict_do_nothing()
        )
        if claimed.rowcount == 0:
            return False  # a redelivery: this handler already took effect
        await self._handle(session, item, attempt=attempt)
        await _before_commit(session)
        return True

    async def _handle(self, session: AsyncSession, item: _Work, *, attempt: int) -> None:
        if item.event is None:
            raise ValueError(item.parse_error)
        event_id = item.envelope["event_id"]
        token = tracing.traceparent_var.set(tracing.child_of(item.envelope.get("traceparent")))
        try:
            context = HandlerContext(
                app=self.app,
                event_id=event_id,
                occurred_at=datetime.fromisoformat(item.envelope["occurred_at"]),
                attempt=attempt,
                session=session,
            )
            await item.handler.run(session, item.event, context)
        finally:
            tracing.traceparent_var.reset(token)

    async def _process_with_retries(self, item: _Work, *, failed_attempts: int = 0, error: str = "") -> None:
        attempts = 1 if item.event is None else self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            if attempt <= failed_attempts:
                if attempt < attempts:
                    await asyncio.sleep(self._backoff(attempt))
                continue
            try:
                async with self.db.unit_of_work() as session:
                    await self._run(session, item, attempt=attempt)
                self._count([item], "processed")
                return
            except Exception as exc:
                error = _describe(exc)
                if attempt < attempts:
                    delay = self._backoff(attempt)
                    log.warning(
                        "handler failed; retrying",
                        extra={
                            "handler": item.handler.name,
                            "event_id": item.envelope.get("event_id"),
                            "attempt": attempt,
                            "retry_in_s": delay,
                            "error": error.splitlines()[0],
                        },
                    )
                    self._count([item], "retried")
                    await asyncio.sleep(delay)
        await self._dead_letter(item, attempts=attempts, error=error)

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2 ** (attempt - 1))

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
        [item] = [w for w in self._work([Delivery(orjson.dumps(row["envelope"]))]) if w.handler is handler]
        try:
            async with self.db.unit_of_work() as session:
                took_effect = await self._run(session, item, attempt=row["attempts"] + 1)
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
            self.metrics.inc(
                "mercato_events_consumed_total",
                handler=item.handler.name,
                event_type=item.envelope["type"],
                outcome=outcome,
            )


async def _before_commit(session: AsyncSession) -> None:
    for callback in session.info.pop("before_commit", {}).values():
        await callback()


def _describe(exc: BaseException) -> str:
    return (
        "".join(traceback.format_exception_only(type(exc), exc)).strip()
        + "\n"
        + "".join(traceback.format_tb(exc.__traceback__, limit=8))
    )
