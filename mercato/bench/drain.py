"""`mercato bench drain`: how fast a backlog of events drains after an outage (embedded profile).

Self-contained, in a temporary directory: its own NATS JetStream, SMTP sink and SQLite databases, and
the services' own code on them. `customers` CustomerRegistered and `events` OrderPlaced piled up in
the outbox of a publishing service (orders' database and data keys) while the broker and
notifications were down; then

1. **published** — the broker is back: the relay (the kernel's `Relay`, run in the benchmark's process)
   publishes the outbox to NATS, until no row is left unpublished;
2. **consumed** — notifications starts as `mercato up` runs it (`mercato serve notifications`, its own
   process) once the backlog waits in the stream: from its readiness until every event took effect
   (inbox rows and sent log committed);
3. **sent** — … and until every e-mail was accepted by the SMTP sink.

Each stage reports events per second and the CPU milliseconds per event of every process involved
(read from /proc, `mercato/bench/cpu.py`): what an event really costs on shared cores, whatever else
runs on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from mercato.bench.cpu import Processes, per_operation
from mercato.bench.events import _progress

POLL_SECONDS = 0.05


@dataclass
class Stage:
    name: str
    seconds: float
    events: int
    cpu_ms: dict[str, float]  # CPU milliseconds per event, by process (and "all")

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(url)


def _count(database: Path, sql: str) -> int:
    """A count read straight from a SQLite file (WAL: never waits for the writer)."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection:
        return connection.execute(sql).fetchone()[0]


def _backlog(events: int, customers: int) -> list[tuple[object, str]]:
    from mercato.contracts.events import CustomerRegistered, OptIns, OrderLineSnapshot, OrderPlaced
    from mercato.contracts.money import Money

    now = datetime.now(UTC)
    backlog: list[tuple[object, str]] = [
        (
            CustomerRegistered(
                customer_id=f"cus_bench{c}",
                email=f"bench{c}@example.com",
                name="Bench",
                phone=None,
                language="en",
                opt_ins=OptIns(email=True, sms=False, push=False),
                registered_at=now,
            ),
            f"cus_bench{c}",
        )
        for c in range(customers)
    ]
    line = OrderLineSnapshot(
        sku="BENCH-1",
        product_id="prod_bench",
        name="Bench tee",
        quantity=1,
        unit_price=Money(amount=1999, currency="EUR"),
    )
    backlog += [
        (
            OrderPlaced(
                order_id=f"ord_bench{o}",
                customer_id=f"cus_bench{o % customers}",
                total=Money(amount=1999, currency="EUR"),
                lines=(line,),
                placed_at=now,
            ),
            f"ord_bench{o}",
        )
        for o in range(events)
    ]
    return backlog


async def _publish(work: Path, backlog: list[tuple[object, str]], nats_pid: int, console: Console) -> Stage:
    """The backlog committed in orders' outbox, then relayed to NATS by the kernel's relay."""
    from mercato.platform.broker import Broker, BrokerSettings, EventPublisher
    from mercato.platform.db import Database
    from mercato.platform.migrations import upgrade
    from mercato.platform.outbox import record_event
    from mercato.platform.relay import Relay
    from mercato.services.notifications.consumers import handlers
    from mercato.services.orders.settings import OrdersSettings

    url = f"sqlite+aiosqlite:///{work / 'orders.db'}"
    await asyncio.to_thread(upgrade, "orders", url)
    db = Database(url, keys=OrdersSettings(database_url=url).keys())
    try:
        for start in range(0, len(backlog), 500):
            async with db.unit_of_work() as session:
                for event, aggregate_id in backlog[start : start + 500]:
                    await record_event(session, event, aggregate_id=aggregate_id)  # type: ignore[arg-type]
        broker = Broker(BrokerSettings(), fail_fast=True)
        await broker.start()
        await broker.declare(handlers.subscriptions())  # notifications' subscriptions wait for it
        await broker.stop()

        publisher = EventPublisher(BrokerSettings())
        relay = Relay(db, publisher, service="orders")
        processes = Processes(pids={"relay (bench process)": os.getpid(), "broker (nats)": nats_pid})
        unpublished = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        with _progress(console) as progress:
            task = progress.add_task("Published by the relay (outbox → NATS)", total=len(backlog))
            before, started = processes.snapshot(), time.perf_counter()
            running = asyncio.create_task(relay.run())
            while (left := _count(work / "orders.db", unpublished)) > 0:
                progress.update(task, completed=len(backlog) - left)
                await asyncio.sleep(POLL_SECONDS)
            seconds, after = time.perf_counter() - started, processes.snapshot()
            progress.update(task, completed=len(backlog))
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await publisher.close()
    finally:
        await db.dispose()
    cpu_ms = per_operation(before, after, len(backlog))
    return Stage("published (relay: outbox → NATS)", seconds, len(backlog), cpu_ms)


async def run_drain_bench(*, events: int, customers: int, console: Console) -> list[Stage]:
    from mercato.platform.migrations import upgrade

    work = Path(tempfile.mkdtemp(prefix="mercato-bench-drain-"))
    nats_port, smtp_port, web_port, service_port = (_free_port() for _ in range(4))
    env = os.environ | {
        "MERCATO_VAR_DIR": str(work),  # data keys of orders and notifications
        "MERCATO_BROKER_URL": f"nats://127.0.0.1:{nats_port}",
        "MERCATO_BROKER_NAMESPACE": "bench",
        "MERCATO_BROKER_ENABLED": "true",
    }
    os.environ.update(env)
    nats_server = str(Path(sys.executable).parent / "nats-server")
    nats = subprocess.Popen(  # noqa: ASYNC220 - starting helpers before the measurement
        [nats_server, "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd", str(work / "nats")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sink = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "mercato.sandbox.mail"],
        env=env
        | {
            "MERCATO_MAIL_SINK_SMTP_PORT": str(smtp_port),
            "MERCATO_MAIL_SINK_WEB_PORT": str(web_port),
            "MERCATO_MAIL_SINK_MAILDIR": str(work / "mail"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    notifications: subprocess.Popen[bytes] | None = None
    database = work / "notifications.db"
    try:
        await _wait_http(f"http://127.0.0.1:{web_port}/_sandbox/health")
        backlog = _backlog(events, customers)
        published = await _publish(work, backlog, nats.pid, console)
        await asyncio.to_thread(upgrade, "notifications", f"sqlite+aiosqlite:///{database}")

        notifications = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "mercato", "serve", "notifications"],
            env=env
            | {
                "MERCATO_NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                "MERCATO_NOTIFICATIONS_PORT": str(service_port),
                "MERCATO_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
                "MERCATO_NOTIFICATIONS_LOG_LEVEL": "WARNING",
            },
            stdout=subprocess.DEVNULL,
            stderr=open(work / "notifications.log", "wb"),  # noqa: SIM115, ASYNC230 - the child keeps it
        )
        processes = Processes(
            pids={"notifications": notifications.pid, "broker (nats)": nats.pid, "mail sink": sink.pid}
        )
        total = len(backlog)
        with _progress(console) as progress:
            consuming = progress.add_task("Consumed (inbox + sent log committed)", total=total)
            sending = progress.add_task("E-mails accepted by SMTP", total=total)
            await _wait_http(f"http://127.0.0.1:{service_port}/readyz")
            before, started = processes.snapshot(), time.perf_counter()
            consumed_at: tuple[float, dict[str, float]] | None = None
            while True:
                consumed = _count(database, "SELECT count(*) FROM inbox")
                sent = _count(database, "SELECT count(*) FROM messages WHERE status = 'sent'")
                progress.update(consuming, completed=consumed)
                progress.update(sending, completed=sent)
                if consumed_at is None and consumed >= total:
                    consumed_at = (time.perf_counter() - started, processes.snapshot())
                if sent >= total:
                    sent_at = (time.perf_counter() - started, processes.snapshot())
                    break
                await asyncio.sleep(POLL_SECONDS)
        assert consumed_at is not None
        return [
            published,
            Stage("consumed (inbox + sent log)", *_since(before, consumed_at, total)),
            Stage("sent (e-mails accepted by SMTP)", *_since(before, sent_at, total)),
        ]
    finally:
        for process in (notifications, sink, nats):
            if process is not None:
                process.terminate()
                process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


def _since(
    before: dict[str, float], at: tuple[float, dict[str, float]], events: int
) -> tuple[float, int, dict[str, float]]:
    return at[0], events, per_operation(before, at[1], events)


def print_drain(stages: list[Stage], console: Console) -> None:
    table = Table(title=f"Draining a backlog of {stages[0].events:,} events (SQLite, NATS JetStream)")
    for column in ("stage", "seconds", "events/s"):
        table.add_column(column, justify="right")
    for stage in stages:
        table.add_row(stage.name, f"{stage.seconds:.2f}", f"{stage.rate:,.0f}")
    console.print(table)
    cpu = Table(title="CPU milliseconds per event, by process")
    cpu.add_column("process")
    for stage in stages:
        cpu.add_column(stage.name.split(" (")[0], justify="right")
    names = dict.fromkeys(name for stage in stages for name in stage.cpu_ms if name != "all")
    for name in [*names, "all"]:
        cpu.add_row(name, *(f"{s.cpu_ms[name]:.3f}" if name in s.cpu_ms else "-" for s in stages))
    console.print(cpu)
    console.print('(sending overlaps consuming: "sent" covers the whole drain)')
