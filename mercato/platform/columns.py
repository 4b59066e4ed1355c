"""Column types every service's models share.

`UTCDateTime` is the one timestamp column: it stores UTC and always reads back an aware UTC datetime,
on SQLite (which keeps no offset: a plain `DateTime(timezone=True)` reads back naive there) and on
PostgreSQL (`timestamptz`) alike. A naive value written is taken to be UTC already; an aware one is
converted. So a timestamp read from any service's database serialises as `...+00:00`, as the
`date-time` format of the OpenAPI schemas requires.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (a naive one is taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp with time zone that is always UTC, written and read (see the module docstring)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)
