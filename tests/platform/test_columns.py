"""The kernel's timestamp column: UTC in, aware UTC out, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from mercato.platform.db import Database
from mercato.platform.tables import idempotency_keys as keys


async def test_a_timestamp_reads_back_as_aware_utc_whatever_it_was_written_as(databases, backend):
    db = Database(await databases.fresh("payments", backend))
    moment = datetime(2026, 12, 3, 8, 7, 33, 602287, tzinfo=UTC)
    written = {
        "utc": moment,
        "paris": moment.astimezone(timezone(timedelta(hours=1))),
        "naive-utc": moment.replace(tzinfo=None),
    }
    try:
        async with db.unit_of_work() as session:
            for handler, at in written.items():
                await session.execute(
                    insert(keys).values(scope="s", key=handler, request_hash="h", created_at=at)
                )
        async with db.read() as session:
            read = dict((await session.execute(select(keys.c.key, keys.c.created_at))).all())
            # the comparison happens in the database, on what was stored: the same instant for all three
            same = await session.scalar(select(func.count()).where(keys.c.created_at == moment))
    finally:
        await db.dispose()
    assert same == 3
    for handler, at in read.items():
        assert at == moment and at.tzinfo is not None and at.utcoffset() == timedelta(0), handler
