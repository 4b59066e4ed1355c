"""A service's event handlers, as its `consumers.py` declares them (the kernel that runs them is
`consumers.py` in this package).

Two kinds, both exactly once in effect:

    handlers = Handlers("notifications")

    @handlers.on(CustomerErased)                      # one event at a time
    async def forget_customer(session, event: CustomerErased, context: HandlerContext) -> None: ...

    @handlers.on_batch(OrderPlaced)                   # every such event of a delivered batch at once
    async def send_order_confirmations(
        session, received: list[Received[OrderPlaced]], context: BatchContext
    ) -> None: ...

A batch handler gets, in delivery order, the events of a batch that it has not handled yet (the kernel
drops redeliveries and duplicates first); it must take effect for all of them or raise — then the
kernel runs it again on each event alone, so one bad event costs only itself. Either way the handler
runs inside the transaction that writes its inbox rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import Event
from mercato.platform import tracing
from mercato.platform.db import after_commit
from mercato.platform.messaging import Subscription

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Received(Generic[E]):
    """One event as a batch handler gets it."""

    event: E
    event_id: str
    occurred_at: datetime
    traceparent: str | None  # the producer's span: pass it to `record_event` for events recorded for it
    attempt: int  # 1 on first delivery


@dataclass
class BatchContext:
    """What a handler gets besides its session and event(s)."""

    app: Any  # the service's application: its state holds settings and clients
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


@dataclass
class HandlerContext(BatchContext):
    """… and, for a handler of one event at a time, that event's delivery."""

    event_id: str
    occurred_at: datetime
    attempt: int


BatchFunction = Callable[[AsyncSession, list[Received[Any]], BatchContext], Awaitable[None]]
HandlerFunction = Callable[[AsyncSession, Any, HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    name: str
    events: tuple[type[Event], ...]
    run: BatchFunction


def _one_at_a_time(function: HandlerFunction) -> BatchFunction:
    async def run(session: AsyncSession, received: list[Received[Any]], context: BatchContext) -> None:
        for item in received:
            attributes = {"mercato.handler": function.__name__}
            with tracing.consuming(f"process {item.event.type}", [item.traceparent], attributes):
                await function(
                    session,
                    item.event,
                    HandlerContext(
                        app=context.app,
                        session=session,
                        event_id=item.event_id,
                        occurred_at=item.occurred_at,
                        attempt=item.attempt,
                    ),
                )

    return run


def _traced_batch(function: BatchFunction) -> BatchFunction:
    async def run(session: AsyncSession, received: list[Received[Any]], context: BatchContext) -> None:
        types = ", ".join(sorted({type(item.event).type for item in received}))
        attributes = {"mercato.handler": function.__name__, "messaging.batch.message_count": len(received)}
        with tracing.consuming(f"process {types}", [item.traceparent for item in received], attributes):
            await function(session, received, context)

    return run


@dataclass
class Handlers:
    """A service's event handlers, by name (the function's name: it keys the inbox and dead letters)."""

    service: str
    start: Literal["new", "all"] = "new"
    # After the first event of a batch, how long to let more gather before handing the batch over (on
    # NATS): for handlers whose every batch costs a fixed price — search's index commit — some
    # freshness traded for fewer, fuller batches. 0: at once.
    linger_seconds: float = 0.0
    handlers: list[Handler] = field(default_factory=list)

    def on(self, *events: type[Event]) -> Callable[[HandlerFunction], HandlerFunction]:
        """Register a handler of one event at a time (in the trace of that event)."""

        def register(function: HandlerFunction) -> HandlerFunction:
            self._add(Handler(function.__name__, events, _one_at_a_time(function)))
            return function

        return register

    def on_batch(self, *events: type[Event]) -> Callable[[BatchFunction], BatchFunction]:
        """Register a handler of every such event of a batch at once."""

        def register(function: BatchFunction) -> BatchFunction:
            self._add(Handler(function.__name__, events, _traced_batch(function)))
            return function

        return register

    def _add(self, handler: Handler) -> None:
        if any(h.name == handler.name for h in self.handlers):
            raise ValueError(f"two handlers named {handler.name}")
        self.handlers.append(handler)

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
            Subscription(self.service, aggregate, tuple(types), self.start, self.linger_seconds)
            for aggregate, types in by_aggregate.items()
        ]
