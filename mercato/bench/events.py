"""`mercato bench events`: how fast what happens after an order happens.

* `lag` (against a running platform, `make up`): customers buy at a steady rate through the gateway;
  for each order, the time from OrderPlaced (the moment the order committed) to its confirmation
  e-mail being accepted by the SMTP server, read from notifications' sent log.
* `drain` (self-contained: its own NATS JetStream, SMTP sink and notifications database in a temporary
  directory): a backlog of OrderPlaced events piles up while notifications is down; then it starts,
  and the benchmark measures how fast the backlog is consumed (events/s, inbox and sent log written)
  and how fast the e-mails go out (e-mails/s accepted by SMTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mercato.bench import setup_staff_headers
from mercato.bench.checkout import ADDRESS, _sign_up, _stock_up, percentile
from mercato.topology import Topology


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


# --- lag ---------------------------------------------------------------------------------------------


@dataclass
class LagResult:
    rate: float
    orders: int = 0
    failed: int = 0
    lags_ms: list[float] = field(default_factory=list)
    missing: int = 0


async def run_lag_bench(
    *, rate: float, duration_s: float, customers: int, topology: Topology, console: Console
) -> LagResult:
    gateway, sandbox = topology.gateway_url, topology.payment_sandbox_url
    notifications = topology.service("notifications").url
    result = LagResult(rate=rate)
    order_ids: list[str] = []
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        with console.status("Preparing stock and customers…"):
            skus = await _stock_up(client, topology, gateway, skus_wanted=min(customers, 40))
            shoppers = await asyncio.gather(*(_sign_up(client, gateway, sandbox) for _ in range(customers)))
            locks = [asyncio.Lock() for _ in shoppers]

        async def buy(i: int) -> None:
            index = i % len(shoppers)
            auth, card = shoppers[index]
            async with locks[index]:  # one cart per customer: their checkouts one after another
                await client.post(f"{gateway}/api/v1/cart/items", json={"sku": skus[index]}, headers=auth)
                response = await client.post(
                    f"{gateway}/api/v1/checkout",
                    json={"shipping_address": ADDRESS, "payment_method": card},
                    headers=auth | {"Idempotency-Key": f"bench-{time.time_ns()}-{i}"},
                )
            if response.status_code == 201:
                order_ids.append(response.json()["id"])
            else:
                result.failed += 1

        total = int(rate * duration_s)
        tasks = []
        with _progress(console) as progress:
            placing = progress.add_task(f"Ordering at {rate:g}/s", total=total)
            started = time.perf_counter()
            for i in range(total):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                task = asyncio.create_task(buy(i))
                task.add_done_callback(lambda _: progress.advance(placing))
                tasks.append(task)
            await asyncio.gather(*tasks)

            confirming = progress.add_task("Waiting for confirmation e-mails", total=len(order_ids))
            pending = set(order_ids)
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                for order_id in list(pending):
                    data = (
                        await client.get(f"{notifications}/internal/messages", params={"order_id": order_id})
                    ).json()["data"]
                    sent = [m for m in data if m["kind"] == "order_confirmation" and m["sent_at"]]
                    if sent:
                        pending.discard(order_id)
                        progress.advance(confirming)
                        message = sent[0]
                        lag = datetime.fromisoformat(message["sent_at"]) - datetime.fromisoformat(
                            message["event_occurred_at"]
                        )
                        result.lags_ms.append(lag.total_seconds() * 1000)
                if pending:
                    await asyncio.sleep(0.5)
    result.orders = len(order_ids)
    result.missing = len(pending)
    return result


def print_lag(result: LagResult, console: Console) -> None:
    table = Table(title=f"OrderPlaced → confirmation e-mail accepted by SMTP, at {result.rate:g} orders/s")
    for column in ("orders", "failed checkouts", "e-mails missing", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="right")
    lags = result.lags_ms
    table.add_row(
        str(result.orders),
        str(result.failed),
        str(result.missing),
        *(f"{percentile(lags, p):.1f} ms" for p in (50, 90, 99)),
        f"{max(lags):.1f} ms" if lags else "-",
    )
    console.print(table)


# --- drain -------------------------------------------------------------------------------------------


@dataclass
class DrainResult:
    events: int
    consume_s: float
    send_s: float


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_http(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise TimeoutError(url)


async def run_drain_bench(*, events: int, customers: int, console: Console) -> DrainResult:
    from sqlalchemy import func, select

    from mercato.contracts.events import CustomerRegistered, OptIns, OrderLineSnapshot, OrderPlaced
    from mercato.contracts.money import Money
    from mercato.platform.broker import Broker, BrokerSettings, OutboundEvent
    from mercato.platform.migrations import upgrade
    from mercato.platform.tables import inbox
    from mercato.services.notifications.models import Message

    work = Path(tempfile.mkdtemp(prefix="mercato-bench-drain-"))
    nats_port, smtp_port, web_port = _free_port(), _free_port(), _free_port()
    nats_server = str(Path(sys.executable).parent / "nats-server")
    nats = subprocess.Popen(  # noqa: ASYNC220 - starting helpers before the measurement
        [nats_server, "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd", str(work / "nats")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sink = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "mercato.sandbox.mail"],
        env=os.environ
        | {
            "MERCATO_MAIL_SINK_SMTP_PORT": str(smtp_port),
            "MERCATO_MAIL_SINK_WEB_PORT": str(web_port),
            "MERCATO_MAIL_SINK_MAILDIR": str(work / "mail"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database_url = f"sqlite+aiosqlite:///{work / 'notifications.db'}"
    os.environ |= {
        "MERCATO_BROKER_URL": f"nats://127.0.0.1:{nats_port}",
        "MERCATO_BROKER_NAMESPACE": "bench",
        "MERCATO_BROKER_ENABLED": "true",
        "MERCATO_NOTIFICATIONS_DATABASE_URL": database_url,
        "MERCATO_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
    }
    try:
        await _wait_http(f"http://127.0.0.1:{web_port}/_sandbox/health")
        await asyncio.to_thread(upgrade, "notifications", database_url)
        from mercato.services.notifications.consumers import handlers
        from mercato.services.notifications.main import build_app
        from mercato.services.notifications.settings import NotificationsSettings

        settings = BrokerSettings()
        broker = Broker(settings, fail_fast=True)
        await broker.start()
        await broker.declare(handlers.subscriptions())  # the subscriptions exist; nobody consumes: an outage
        now = datetime.now(UTC)
        backlog: list[OutboundEvent] = []
        for c in range(customers):
            event = CustomerRegistered(
                customer_id=f"cus_bench{c}",
                email=f"bench{c}@example.com",
                name="Bench",
                phone=None,
                language="en",
                opt_ins=OptIns(email=True, sms=False, push=False),
                registered_at=now,
            )
            backlog.append(_outbound(event, f"cus_bench{c}"))
        line = OrderLineSnapshot(
            sku="BENCH-1",
            product_id="prod_bench",
            name="Bench tee",
            quantity=1,
            unit_price=Money(amount=1999, currency="EUR"),
        )
        for o in range(events):
            event = OrderPlaced(
                order_id=f"ord_bench{o}",
                customer_id=f"cus_bench{o % customers}",
                total=Money(amount=1999, currency="EUR"),
                lines=(line,),
                placed_at=now,
            )
            backlog.append(_outbound(event, f"ord_bench{o}"))
        with _progress(console) as progress:
            publishing = progress.add_task(
                "Backlog published while notifications is down", total=len(backlog)
            )
            for outbound in backlog:
                await broker.publish(outbound)
                progress.advance(publishing)
        await broker.stop()

        app = build_app(
            NotificationsSettings(database_url=database_url, smtp_port=smtp_port, log_level="WARNING")
        )
        with _progress(console) as progress:
            consuming = progress.add_task("Consumed (inbox + sent log written)", total=events + customers)
            sending = progress.add_task("E-mails accepted by SMTP", total=events + customers)
            async with app.router.lifespan_context(app):
                started = time.perf_counter()
                consumed_at = sent_at = None
                while sent_at is None:
                    async with app.state.db.read() as session:
                        consumed = (await session.execute(select(func.count()).select_from(inbox))).scalar()
                        sent = (
                            await session.execute(
                                select(func.count()).select_from(Message).where(Message.status == "sent")
                            )
                        ).scalar()
                    progress.update(consuming, completed=consumed)
                    progress.update(sending, completed=sent)
                    if consumed_at is None and consumed >= events + customers:
                        consumed_at = time.perf_counter() - started
                    if sent >= events + customers:
                        sent_at = time.perf_counter() - started
                    await asyncio.sleep(0.05)
        return DrainResult(events=events + customers, consume_s=consumed_at or sent_at, send_s=sent_at)
    finally:
        for process in (sink, nats):
            process.terminate()
            process.wait(timeout=10)


def _outbound(event, aggregate_id: str):
    from mercato.platform.broker import OutboundEvent

    envelope = event.envelope()
    return OutboundEvent(
        event_id=envelope["event_id"],
        event_type=event.type,
        aggregate_type=event.aggregate,
        aggregate_id=aggregate_id,
        body=orjson.dumps(envelope),
        headers={},
    )


def print_drain(result: DrainResult, console: Console) -> None:
    table = Table(title=f"Draining a backlog of {result.events} events (notifications, SQLite, NATS)")
    for column in ("stage", "seconds", "rate"):
        table.add_column(column, justify="right")
    table.add_row(
        "consumed (inbox + sent log)",
        f"{result.consume_s:.2f}",
        f"{result.events / result.consume_s:,.0f} events/s",
    )
    table.add_row(
        "e-mails accepted by SMTP", f"{result.send_s:.2f}", f"{result.events / result.send_s:,.0f} e-mails/s"
    )
    console.print(table)


# --- search lag --------------------------------------------------------------------------------------


async def run_search_lag_bench(*, products: int, topology: Topology, console: Console) -> list[float]:
    """Products created through catalog one after another; for each, the time until a search through
    the gateway finds it (catalog commit → outbox → broker → search's index commit → query)."""
    catalog = topology.service("catalog").url
    gateway = topology.gateway_url
    lags: list[float] = []
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        category = (await client.get(f"{gateway}/api/v1/categories")).json()["data"][0]
        while category["children"]:
            category = category["children"][0]
        with _progress(console) as progress:
            task = progress.add_task("Products created until searchable", total=products)
            for i in range(products):
                word = f"benchlag{time.time_ns() % 10**9:09d}{i}"
                response = await client.post(
                    f"{catalog}/admin/v1/products",
                    json={
                        "slug": word,
                        "name": f"{word} Lamp",
                        "brand": "Bench",
                        "category": category["slug"],
                        "variants": [
                            {
                                "sku": f"BL-{word[-10:].upper()}",
                                "price": {"amount": 1000, "currency": "EUR"},
                                "stock": 1,
                            }
                        ],
                    },
                    headers=setup_staff_headers(),
                )
                response.raise_for_status()
                created = time.perf_counter()
                while True:
                    found = (await client.get(f"{gateway}/api/v1/search", params={"q": word})).json()
                    if found["total"]:
                        lags.append((time.perf_counter() - created) * 1000)
                        break
                    if time.perf_counter() - created > 10:
                        raise TimeoutError(f"{word} not searchable after 10 s")
                    await asyncio.sleep(0.005)
                progress.advance(task)
    return lags
