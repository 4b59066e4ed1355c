"""Writing events to the transactional outbox, inside the caller's unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import Event
from mercato.platform.tables import outbox


async def record_event(
    session: AsyncSession,
    event: Event,
    *,
    aggregate_type: str,
    aggregate_id: str,
    traceparent: str | None = None,
) -> None:
    """Stage `event` for publication; it is published only if the surrounding transaction commits."""
    envelope = event.envelope(traceparent=traceparent)
    await session.execute(
        outbox.insert().values(
            event_id=envelope["event_id"],
            event_type=event.type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            envelope=envelope,
            created_at=datetime.now(UTC),
        )
    )
