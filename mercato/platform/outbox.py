"""Writing events to the transactional outbox, inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import Event
from mercato.platform import tracing
from mercato.platform.tables import outbox


async def record_event(
    session: AsyncSession,
    event: Event,
    *,
    aggregate_id: str,
    aggregate_type: str | None = None,
    traceparent: str | None = None,
) -> None:
    """Stage `event` for publication; it is published only if the surrounding transaction commits.

    `aggregate_id` orders events: those of one aggregate are published in the order they were recorded.
    The event continues the current trace (the request's or the consumed event's) unless
    `traceparent` says otherwise.
    """
    envelope = event.envelope(traceparent=tracing.producer(f"create {event.type}", traceparent))
    session.info["outbox"] = True  # wakes the relay once the transaction commits
    await session.execute(
        outbox.insert().values(
            event_id=envelope["event_id"],
            event_type=event.type,
            aggregate_type=aggregate_type or event.aggregate,
            aggregate_id=aggregate_id,
            envelope=envelope,
            created_at=datetime.now(UTC),
        )
    )


async def record_events(
    session: AsyncSession, events: Sequence[Event], *, aggregate_id: str, aggregate_type: str | None = None
) -> None:
    """`record_event` for several events of one aggregate, in one INSERT: published in the order given."""
    if len(events) == 1:
        await record_event(session, events[0], aggregate_id=aggregate_id, aggregate_type=aggregate_type)
        return
    parent = tracing.producer(f"create {', '.join(sorted({event.type for event in events}))}")
    session.info["outbox"] = True
    at = datetime.now(UTC)
    rows = []
    for event in events:
        envelope = event.envelope(traceparent=parent)
        rows.append(
            {
                "event_id": envelope["event_id"],
                "event_type": event.type,
                "aggregate_type": aggregate_type or event.aggregate,
                "aggregate_id": aggregate_id,
                "envelope": envelope,
                "created_at": at,
            }
        )
    await session.execute(outbox.insert().values(rows))
