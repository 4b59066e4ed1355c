"""A front end's short-lived copies of the gateway's public answers (the catalog, search): the same
product read by a thousand shoppers a second is asked for about once a second.

An answer is used as it is for `fresh_seconds` after it was asked for; then the next read asks again,
with the answer's ETag in If-None-Match, and a 304 makes it fresh again without a body. That is the
bound: a change (a price, a stock level) shows at most `fresh_seconds` after the gateway has it. Reads of
one answer that miss at the same time share one call. The copies are the raw bytes: every read parses
its own, so nothing a page does to its data can reach another page. At most `capacity` answers are
kept, the least recently used dropped first. Only public reads belong here, never a shopper's own data.

While a request is `tracking()`, every answer it reads lowers `Freshness.until` to when that answer
goes stale: a page made from them (`mercato.storefront.pagecache`) is kept no longer than its data.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

Clock = Callable[[], float]


@dataclass(frozen=True)
class Reply:
    """An answer as the gateway gave it (headers look-ups ignore case)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


Fetch = Callable[[str | None], Awaitable[Reply]]  # the ETag to revalidate, if any → the answer


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str | None
    fresh_until: float  # on the cache's clock


@dataclass
class Freshness:
    """When the first of the answers a request has read goes stale."""

    until: float = field(default=float("inf"))


_TRACKED: ContextVar[Freshness | None] = ContextVar("mercato_answers_tracked", default=None)


@contextmanager
def tracking() -> Iterator[Freshness]:
    freshness = Freshness()
    token = _TRACKED.set(freshness)
    try:
        yield freshness
    finally:
        _TRACKED.reset(token)


def tracked() -> Freshness | None:
    """The current request's freshness, if it is being tracked."""
    return _TRACKED.get()


def _storable(response: Reply) -> bool:
    directives = response.headers.get("cache-control", "").lower()
    return "no-store" not in directives and "private" not in directives


class Answers:
    def __init__(self, fresh_seconds: float, capacity: int, clock: Clock = time.monotonic) -> None:
        self.fresh_seconds = fresh_seconds
        self.capacity = capacity
        self.clock = clock
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._asking: dict[str, asyncio.Future[Answer]] = {}

    async def read(self, key: str, fetch: Fetch) -> bytes:
        """The body of the answer under `key`: kept if fresh, else asked for (or revalidated)."""
        answer = self._answers.get(key)
        if answer is None or self.clock() >= answer.fresh_until:
            asking = self._asking.get(key)
            if asking is None:
                asking = asyncio.ensure_future(self._ask(key, answer, fetch))
                self._asking[key] = asking
                asking.add_done_callback(lambda done: self._asked(key, done))
            answer = await asyncio.shield(asking)  # a request that goes away leaves the others theirs
        else:
            self._answers.move_to_end(key)
        if (freshness := _TRACKED.get()) is not None:
            freshness.until = min(freshness.until, answer.fresh_until)
        return answer.body

    def _asked(self, key: str, done: asyncio.Future[Answer]) -> None:
        self._asking.pop(key, None)
        if not done.cancelled():
            done.exception()  # seen here: the readers that gave up waiting will never look

    async def _ask(self, key: str, kept: Answer | None, fetch: Fetch) -> Answer:
        asked_at = self.clock()  # the answer is at least this recent, however long it takes
        response = await fetch(kept.etag if kept else None)
        storable = _storable(response)
        fresh_until = asked_at + self.fresh_seconds if storable else asked_at  # else stale at once
        if response.status_code == 304 and kept is not None:
            answer = replace(kept, fresh_until=fresh_until)
        else:
            answer = Answer(response.content, response.headers.get("etag"), fresh_until)
        if storable:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
        return answer
