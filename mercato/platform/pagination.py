"""Cursor pagination: `?limit=&cursor=` in, `{"data": [...], "next_cursor": ...}` out.

A cursor is the keyset position after the last row of a page, signed with the service's cursor secret:
clients treat it as opaque, a tampered or truncated one is a clean 400, and it stays valid while rows
are inserted (unlike offsets, which skip or repeat rows).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query, Request
from pydantic import AfterValidator, BaseModel, BeforeValidator

from mercato.platform.errors import BadRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def _sign(payload: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(position: dict[str, Any], secret: str) -> str:
    payload = orjson.dumps(position)
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(payload, secret)}"


def decode_cursor(cursor: str, secret: str) -> dict[str, Any]:
    invalid = BadRequest(
        "The cursor is not valid; use the next_cursor of a previous page.",
        errors={"cursor": "is not a valid cursor"},
    )
    body, _, signature = cursor.partition(".")
    if not body or not signature or len(cursor) > 512 or not cursor.isascii():  # ours are ASCII
        raise invalid
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise invalid from None
    if not hmac.compare_digest(signature, _sign(payload, secret)):
        raise invalid
    position = orjson.loads(payload)
    if not isinstance(position, dict):
        raise invalid
    return position


def _written_as(pattern: str, what: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise ValueError(f"must be {what}")
        return value

    return check


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must say its time zone (e.g. 2026-12-03T08:00:00Z)")
    return value


def _plausible(value: date) -> date:
    """Days a shop can have data for, with room for arithmetic on either side (0001-01-01 minus a
    month is not a date)."""
    if not date(1970, 1, 1) <= value <= date(9998, 12, 31):
        raise ValueError("must be between 1970-01-01 and 9998-12-31")
    return value


# Date filters of lists, as ISO 8601 text only (pydantic alone also reads "0" as 1970-01-01).
Day = Annotated[
    date,
    BeforeValidator(_written_as(r"\d{4}-\d{2}-\d{2}", "a day, YYYY-MM-DD")),
    AfterValidator(_plausible),
]
Instant = Annotated[
    datetime,
    BeforeValidator(_written_as(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", "a date and time, ISO 8601")),
    AfterValidator(_aware),
]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1-100.")]
CursorParam = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]


@dataclass(frozen=True)
class PageRequest:
    """A route's view of `?limit=&cursor=`: fetch `fetch` rows from `position`, then call `page`."""

    limit: int
    position: dict[str, Any]
    secret: str

    @property
    def fetch(self) -> int:
        return self.limit + 1  # one more than shown tells whether a next page exists

    def page(self, rows: list[T], position_after: Callable[[T], dict[str, Any]]) -> Page[T]:
        return Page[T](data=rows[: self.limit], next_cursor=self.next_cursor(rows, position_after))

    def next_cursor(self, rows: list[T], position_after: Callable[[T], dict[str, Any]]) -> str | None:
        """The cursor of the page after this one (`rows` as fetched), or None if this is the last."""
        more = len(rows) > self.limit
        return encode_cursor(position_after(rows[self.limit - 1]), self.secret) if more else None


def _page_request(request: Request, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> PageRequest:
    secret = request.app.state.settings.cursor_secret.get_secret_value()
    return PageRequest(limit=limit, position=decode_cursor(cursor, secret) if cursor else {}, secret=secret)


Paging = Annotated[PageRequest, Depends(_page_request)]
