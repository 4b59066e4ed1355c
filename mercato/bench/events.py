"""`mercato bench events`: how fast what happens after an order happens.

* `lag` (against a running platform, `make up`): customers buy at a steady rate through the gateway;
  for each order, the time from OrderPlaced (the moment the order committed) to its confirmation
  e-mail being accepted by the SMTP server, read from notifications' sent log.
* `search lag` (against a running platform): products created through catalog one after another; for
  each, the time until a search through the gateway finds it.

`mercato bench drain` (a backlog after an outage) is in `drain.py`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
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
