"""The outbox relay against a real NATS JetStream server (the pip-installed one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import nats
import orjson
import pytest
from sqlalchemy import select

from mercato.contracts.events import OrderStatusChanged
from mercato.platform.broker import BrokerSettings, EventPublisher
from mercato.platform.db import Database
from mercato.platform.messaging import OutboundEvent
from mercato.platform.outbox import record_event
from mercato.platform.relay import Relay
from mercato.platform.tables import outbox
from tests.platform.brokers import NatsServer


@pytest.fixture
def nats_server(tmp_path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def outbox_db(databases, backend):
    db = Database(await databases.fresh("orders", backend))
    yield db
    await db.dispose()


async def _stage(db: Database, count: int, order_id: str = "ord_1", reason: str | None = None) -> None:
    for i in range(count):
        async with db.unit_of_work() as session:
            await record_event(
                session,
                OrderStatusChanged(
                    order_id=order_id,
                    customer_id="cus_1",
                    from_state=str(i),
                    to_state=str(i + 1),
                    reason=reason,
                    changed_at=datetime.now(UTC),
                ),
                aggregate_type="order",
                aggregate_id=order_id,
            )


async def _stream_messages(url: str) -> list[dict]:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info("MERCATO")
        messages = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await js.get_msg("MERCATO", seq)
            messages.append(
                {
                    "subject": raw.subject,
                    "id": raw.headers["Nats-Msg-Id"],
                    "body": __import__("orjson").loads(raw.data),
                }
            )
        return messages
    finally:
        await connection.close()


async def _unpublished(db: Database) -> int:
    async with db.read() as session:
        return len(
            (await session.execute(select(outbox.c.position).where(outbox.c.published_at.is_(None)))).all()
        )


async def test_events_are_published_in_order_with_their_id_and_marked(outbox_db, nats_server):
    await _stage(outbox_db, 5)
    publisher = EventPublisher(BrokerSettings(url=nats_server.url))
    try:
        assert await Relay(outbox_db, publisher).relay_once() == 5
    finally:
        await publisher.close()
    messages = await _stream_messages(nats_server.url)
    assert [m["body"]["payload"]["to_state"] for m in messages] == ["1", "2", "3", "4", "5"]
    assert all(m["subject"] == "mercato.order.OrderStatusChanged" for m in messages)
    assert [m["id"] for m in messages] == [m["body"]["event_id"] for m in messages]
    assert await _unpublished(outbox_db) == 0


async def test_an_event_the_broker_refuses_stops_the_batch_there(outbox_db, nats_server):
    """One batch, published at once: the events before the refused one are marked, it and the ones
    after it wait for the next attempt."""
    await _stage(outbox_db, 2)
    await _stage(outbox_db, 1, order_id="ord_2", reason="x" * 2_000_000)  # over NATS' 1 MB payload limit
    await _stage(outbox_db, 2, order_id="ord_3")
    publisher = EventPublisher(BrokerSettings(url=nats_server.url))
    try:
        with pytest.raises(Exception, match="payload"):
            await Relay(outbox_db, publisher).relay_once()
    finally:
        await publisher.close()
    assert [m["body"]["payload"]["order_id"] for m in await _stream_messages(nats_server.url)] == [
        "ord_1",
        "ord_1",
    ]
    async with outbox_db.read() as session:
        waiting = (await session.execute(select(outbox).order_by(outbox.c.position))).all()[2:]
    assert [row.published_at for row in waiting] == [None, None, None]
    assert [row.attempts for row in waiting] == [1, 0, 0]
    assert "payload" in waiting[0].last_error.lower()


async def test_a_relay_that_died_before_marking_does_not_duplicate(outbox_db, nats_server):
    await _stage(outbox_db, 3)
    publisher = EventPublisher(BrokerSettings(url=nats_server.url))
    try:
        marked_nothing = Relay(outbox_db, publisher)
        async with outbox_db.read() as session:  # publish exactly as the relay does, then "die"
            rows = (await session.execute(select(outbox).order_by(outbox.c.position))).all()
        for row in rows:
            await publisher.publish(
                [
                    OutboundEvent(
                        event_id=row.event_id,
                        event_type=row.event_type,
                        aggregate_type=row.aggregate_type,
                        aggregate_id=row.aggregate_id,
                        body=orjson.dumps(row.envelope),
                        headers={},
                    )
                ]
            )
        assert await marked_nothing.relay_once() == 3  # after restart: published again...
    finally:
        await publisher.close()
    assert len(await _stream_messages(nats_server.url)) == 3  # ...and the broker kept one of each


async def test_the_broker_being_down_loses_nothing(outbox_db, nats_server):
    await _stage(outbox_db, 4)
    nats_server.stop()
    publisher = EventPublisher(BrokerSettings(url=nats_server.url))
    relay = Relay(outbox_db, publisher)
    try:
        with pytest.raises(Exception):  # noqa: B017 - any connection error
            await relay.relay_once()
        assert await _unpublished(outbox_db) == 4
        count, age = await relay.lag()
        assert count == 4 and age >= 0
        async with outbox_db.read() as session:
            first = (await session.execute(select(outbox).order_by(outbox.c.position))).first()
        assert first.attempts == 1 and first.last_error

        nats_server.start()
        runner = asyncio.create_task(relay.run(idle_seconds=0.05))
        for _ in range(100):
            if await _unpublished(outbox_db) == 0:
                break
            await asyncio.sleep(0.1)
        runner.cancel()
    finally:
        await publisher.close()
    assert [m["body"]["payload"]["to_state"] for m in await _stream_messages(nats_server.url)] == [
        "1",
        "2",
        "3",
        "4",
    ]


async def test_only_one_replica_relays_and_another_takes_over_when_it_stops(outbox_db, nats_server):
    """Two relays on one database (two replicas of a service): one holds the lease, so events of an
    aggregate cannot be published out of order by two publishers at once."""
    publisher = EventPublisher(BrokerSettings(url=nats_server.url))
    first, second = Relay(outbox_db, publisher), Relay(outbox_db, publisher)
    try:
        assert await first.lease.acquire() is True
        assert await second.lease.acquire() is False
        await _stage(outbox_db, 2)
        runner = asyncio.create_task(second.run(idle_seconds=0.05))
        await asyncio.sleep(0.5)
        assert await _unpublished(outbox_db) == 2  # the second replica waits
        await first.lease.release()  # the first one stops (or dies: its lock goes with it)
        for _ in range(100):
            if await _unpublished(outbox_db) == 0:
                break
            await asyncio.sleep(0.1)
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    finally:
        await publisher.close()
    assert await _unpublished(outbox_db) == 0
