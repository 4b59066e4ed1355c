"""The front ends' kept answers: used as they are while fresh, then revalidated with If-None-Match, one
call for every reader at once, never longer than the bound — on a clock the test moves, over real TCP to
a small catalog-like app that keeps count of what it is asked."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mercato.webkit import answers
from mercato.webkit.answers import Answers
from mercato.webkit.gateway import GatewayClient, NotFound
from tests.servers import served

FRESH = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Catalog:
    """One product whose price the test changes; every request is noted with its If-None-Match."""

    def __init__(self) -> None:
        self.price = 1999
        self.asked: list[str | None] = []
        self.directives: set[str | None] = set()  # the requests' own Cache-Control
        self.not_modified = 0
        self.cache_control = "public, max-age=0, must-revalidate"
        self.gate: asyncio.Event | None = None  # when set, answers wait for it (readers pile up)

    async def product(self, request: Request) -> Response:
        self.asked.append(request.headers.get("if-none-match"))
        if request.path_params["slug"] == "gone":
            return Response(status_code=404)
        self.directives.add(request.headers.get("cache-control"))
        if self.gate is not None:
            await self.gate.wait()
        body = json.dumps({"slug": "tee", "price": {"amount": self.price, "currency": "EUR"}}).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        headers = {"etag": etag, "cache-control": self.cache_control}
        if request.headers.get("if-none-match") == etag:
            self.not_modified += 1
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/v1/products/{slug}", self.product)])


class Reader(GatewayClient):
    async def price(self, slug: str = "tee") -> int:
        return (await self._json("catalog", f"/api/v1/products/{slug}"))["price"]["amount"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog() -> Catalog:
    return Catalog()


@pytest.fixture
async def reader(catalog, clock):
    async with served(catalog.app()) as url:
        client = Reader(url, 5.0, "test", answers=Answers(FRESH, capacity=10, clock=clock))
        yield client
        await client.aclose()


async def test_a_fresh_answer_is_used_as_it_is_then_revalidated_with_its_etag(reader, catalog, clock):
    assert await reader.price() == 1999
    catalog.price = 2499  # changed upstream: unseen while the kept answer is fresh
    clock.now += FRESH - 0.01
    assert await reader.price() == 1999
    assert catalog.asked == [None]

    clock.now += 0.01  # the bound: from here on, the change shows
    assert await reader.price() == 2499
    first_etag = catalog.asked[1]
    assert first_etag is not None  # revalidated, not asked afresh

    clock.now += FRESH
    assert await reader.price() == 2499  # unchanged: a 304, the kept body made fresh again
    assert len(catalog.asked) == 3 and catalog.asked[2] not in (None, first_etag)
    assert catalog.not_modified == 1
    assert catalog.directives == {"no-cache"}  # a cache between (the gateway's) must not add its own age


async def test_readers_of_a_stale_answer_share_one_call(reader, catalog, clock):
    await reader.price()
    clock.now += FRESH
    catalog.gate = asyncio.Event()
    readers = [asyncio.create_task(reader.price()) for _ in range(20)]
    await asyncio.sleep(0.05)  # let every reader reach the cache
    catalog.gate.set()
    assert await asyncio.gather(*readers) == [1999] * 20
    assert len(catalog.asked) == 2


async def test_a_failure_reaches_every_reader_at_once_and_is_not_kept(reader, catalog):
    readers = [reader.price("gone") for _ in range(5)]
    failures = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(failure, NotFound) for failure in failures)
    assert len(catalog.asked) == 1
    with pytest.raises(NotFound):
        await reader.price("gone")
    assert len(catalog.asked) == 2


async def test_an_answer_marked_no_store_is_never_kept(reader, catalog):
    catalog.cache_control = "no-store"
    await reader.price()
    await reader.price()
    assert catalog.asked == [None, None]


async def test_each_read_gets_its_own_copy(reader):
    first = await reader._json("catalog", "/api/v1/products/tee")
    first["price"]["amount"] = 1
    assert await reader.price() == 1999


async def test_a_tracked_request_learns_when_its_first_answer_goes_stale(reader, clock):
    await reader.price("tee")
    clock.now += 0.5
    with answers.tracking() as freshness:
        await reader.price("tee")  # kept at 100.0: stale at 101.0
        await reader.price("other")  # asked at 100.5: stale at 101.5
    assert freshness.until == 100.0 + FRESH


async def test_the_least_recently_used_answers_go_first(reader, catalog):
    for slug in [f"p{i}" for i in range(11)]:  # capacity 10
        await reader.price(slug)
    await reader.price("p10")
    await reader.price("p0")  # dropped: asked again
    assert len(catalog.asked) == 12
