"""The outbox relay against a real NATS JetStream server (the pip-installed one)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from sqlalchemy import select

from mercato.contracts.events import OrderStatusChanged
from mercato.platform.broker import BrokerPublisher, BrokerSettings
from mercato.platform.db import Database
from mercato.platform.outbox import record_event
from mercato.platform.relay import Relay
from mercato.platform.tables import outbox

NATS_SERVER = Path(__import__("sys").executable).parent / "nats-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port, self.store, self.process = _free_port(), store, None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            __import__("time").sleep(0.05)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


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


async def _stage(db: Database, count: int, order_id: str = "ord_1") -> None:
    for i in range(count):
        async with db.unit_of_work() as session:
            await record_event(
                session,
                OrderStatusChanged(
                    order_id=order_id,
                    customer_id="cus_1",
                    from_state=str(i),
                    to_state=str(i + 1),
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
    publisher = BrokerPublisher(BrokerSettings(url=nats_server.url))
    try:
        assert await Relay(outbox_db, publisher).relay_once() == 5
    finally:
        await publisher.close()
    messages = await _stream_messages(nats_server.url)
    assert [m["body"]["payload"]["to_state"] for m in messages] == ["1", "2", "3", "4", "5"]
    assert all(m["subject"] == "mercato.order.OrderStatusChanged" for m in messages)
    assert [m["id"] for m in messages] == [m["body"]["event_id"] for m in messages]
    assert await _unpublished(outbox_db) == 0


async def test_a_relay_that_died_before_marking_does_not_duplicate(outbox_db, nats_server):
    await _stage(outbox_db, 3)
    publisher = BrokerPublisher(BrokerSettings(url=nats_server.url))
    try:
        marked_nothing = Relay(outbox_db, publisher)
        async with outbox_db.read() as session:  # publish exactly as the relay does, then "die"
            rows = (await session.execute(select(outbox).order_by(outbox.c.position))).all()
        for row in rows:
            await publisher(
                f"mercato.order.{row.event_type}",
                __import__("orjson").dumps(row.envelope),
                {"Nats-Msg-Id": row.event_id},
            )
        assert await marked_nothing.relay_once() == 3  # after restart: published again...
    finally:
        await publisher.close()
    assert len(await _stream_messages(nats_server.url)) == 3  # ...and the broker kept one of each


async def test_the_broker_being_down_loses_nothing(outbox_db, nats_server):
    await _stage(outbox_db, 4)
    nats_server.stop()
    publisher = BrokerPublisher(BrokerSettings(url=nats_server.url))
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
