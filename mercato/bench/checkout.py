"""`mercato bench checkout`: customers buying through the gateway, as fast as the platform allows.

Each virtual customer registers once, signs in and tokenises a test card at the provider, then loops:
add an item to the cart, check out. Latency is measured per checkout request. SQL statements per
checkout come from each service's /metrics, minus what the add-to-cart steps cost (measured first).
The benchmark tops up stock of the SKUs it buys through catalog's private API, so run it against a
development platform (`make up`), not a shop with real inventory.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mercato.bench import metric_value, setup_staff_headers
from mercato.bench.cpu import Processes, per_operation
from mercato.topology import HOST, Topology

PASSWORD = "bench mark password 1"  # noqa: S105 - throwaway benchmark accounts
ADDRESS = {
    "name": "Bench Customer",
    "line1": "1 Load St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    statements: dict[tuple[str, str], float] = field(default_factory=dict)  # per checkout
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU milliseconds per checkout, by process

    @property
    def checkouts(self) -> int:
        return self.statuses.get(201, 0)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


KINDS = ("statements", "transactions")


async def _statements(client: httpx.AsyncClient, topology: Topology) -> dict[tuple[str, str], int]:
    """(service, "statements" | "transactions") → the service's counter now."""
    counts = dict.fromkeys(((name, kind) for name in topology.services for kind in KINDS), 0)
    for name in topology.services:
        for port in topology.replica_ports(name):  # every replica's (they count apart)
            text = (await client.get(f"http://{HOST}:{port}/metrics")).text
            for kind in KINDS:
                counts[name, kind] += int(metric_value(text, f"mercato_sql_{kind}_total"))
    return counts


async def _stock_up(
    client: httpx.AsyncClient, topology: Topology, gateway: str, skus_wanted: int
) -> list[str]:
    """SKUs in stock, each topped up so the benchmark never runs out."""
    skus: list[str] = []
    products = (await client.get(f"{gateway}/api/v1/products", params={"limit": 50})).json()["data"]
    for product in products:
        detail = (await client.get(f"{gateway}/api/v1/products/{product['slug']}")).json()
        skus += [v["sku"] for v in detail["variants"]]
        if len(skus) >= skus_wanted:
            break
    catalog = topology.service("catalog").url
    for sku in skus[:skus_wanted]:
        response = await client.post(
            f"{catalog}/admin/v1/inventory/{sku}/adjustments",
            json={"delta": 1_000_000, "reason": "received", "note": "benchmark stock"},
            headers=setup_staff_headers() | {"Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
    return skus[:skus_wanted]


async def _sign_up(client: httpx.AsyncClient, gateway: str, sandbox: str) -> tuple[dict[str, str], str]:
    """Register and sign in (waiting out the gateway's rate limit like a polite client), tokenise a card."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    for path, body in (
        ("/api/v1/customers", {"email": email, "password": PASSWORD, "name": "Bench"}),
        ("/api/v1/auth/token", {"email": email, "password": PASSWORD}),
    ):
        # 429: a rate limit; 503: every password-hash slot busy (both say when to come back)
        while (response := await client.post(f"{gateway}{path}", json=body)).status_code in (429, 503):  # noqa: ASYNC110
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        response.raise_for_status()
    auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
    card = await client.post(
        f"{sandbox}/v1/payment_methods",
        headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    )
    card.raise_for_status()
    return auth, card.json()["id"]


async def run_checkout_bench(
    *, customers: int, duration_s: float, rate: float | None, topology: Topology, console: Console
) -> Result:
    gateway, sandbox = topology.gateway_url, topology.payment_sandbox_url
    limits = httpx.Limits(max_connections=customers * 2 + 10, max_keepalive_connections=customers * 2 + 10)
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:
        with console.status("Preparing stock and customers…"):
            skus = await _stock_up(client, topology, gateway, skus_wanted=min(customers, 40))
            shoppers = await asyncio.gather(*(_sign_up(client, gateway, sandbox) for _ in range(customers)))

        async def add_to_cart(i: int) -> None:
            auth = shoppers[i % customers][0]
            response = await client.post(
                f"{gateway}/api/v1/cart/items", json={"sku": skus[i % len(skus)]}, headers=auth
            )
            response.raise_for_status()

        before_adds = await _statements(client, topology)
        await asyncio.gather(*(add_to_cart(i) for i in range(customers)))
        after_adds = await _statements(client, topology)
        per_add = {name: (after_adds[name] - before_adds[name]) / customers for name in after_adds}

        result, adds = Result(), 0
        interval = customers / rate if rate else 0.0  # each customer's pace under an open-loop rate
        deadline = time.perf_counter() + duration_s

        async def customer(i: int, progress: Progress, task: object) -> None:
            nonlocal adds
            auth, card = shoppers[i]
            next_start = time.perf_counter() + (interval * i / customers if interval else 0)
            first = True
            while time.perf_counter() < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
                    next_start += interval
                if not first:
                    await add_to_cart(i)
                    adds += 1
                first = False
                started = time.perf_counter()
                response = await client.post(
                    f"{gateway}/api/v1/checkout",
                    json={"shipping_address": ADDRESS, "payment_method": card},
                    headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
                )
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                progress.update(
                    task, completed=min(duration_s, duration_s - (deadline - time.perf_counter()))
                )

        columns = (
            TextColumn("Checkouts"),
            BarColumn(),
            TextColumn("{task.fields[done]} done"),
            TimeRemainingColumn(),
        )
        processes = Processes.find(topology)
        cpu_before = processes.snapshot()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("bench", total=duration_s, done=0)
            started = time.perf_counter()

            async def report() -> None:
                while time.perf_counter() < deadline:
                    progress.update(task, done=sum(result.statuses.values()))
                    await asyncio.sleep(0.25)

            await asyncio.gather(report(), *(customer(i, progress, task) for i in range(customers)))
            result.elapsed_s = time.perf_counter() - started
            progress.update(task, completed=duration_s, done=sum(result.statuses.values()))

        cpu_after = processes.snapshot()
        after = await _statements(client, topology)
        checkouts = max(sum(result.statuses.values()), 1)
        # add-to-cart requests run in the same window; their CPU is counted with the checkout they precede
        result.cpu_ms = per_operation(cpu_before, cpu_after, checkouts)
        result.statements = {
            name: (after[name] - after_adds[name] - adds * per_add[name]) / checkouts for name in after
        }
        return result


def print_result(result: Result, *, customers: int, rate: float | None, console: Console) -> None:
    table = Table(title="mercato bench checkout", show_header=False)
    table.add_row("customers (concurrent)", str(customers))
    table.add_row("target rate", f"{rate:g}/s" if rate else "as fast as possible (closed loop)")
    table.add_row("duration", f"{result.elapsed_s:.1f} s")
    table.add_row("responses", ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items())))
    table.add_row("checkouts/s", f"{result.checkouts / result.elapsed_s:.1f}")
    for p in (50, 95, 99):
        table.add_row(f"p{p} latency", f"{percentile(result.latencies_ms, p):.1f} ms")
    table.add_row(
        "mean latency", f"{statistics.fmean(result.latencies_ms):.1f} ms" if result.latencies_ms else "-"
    )
    services = sorted({name for name, _ in result.statements}, key=list(Topology().services).index)
    for name in [*services, "all"]:
        statements, transactions = (
            sum(v for (n, kind), v in result.statements.items() if kind == wanted and name in (n, "all"))
            for wanted in ("statements", "transactions")
        )
        table.add_row(
            f"SQL statements / checkout: {name}", f"{statements:.1f} (in {transactions:.1f} transactions)"
        )
    console.print(table)
    cpu = Table("process", "CPU ms / checkout", title="CPU per checkout (with its add-to-cart), from /proc")
    for name, ms in result.cpu_ms.items():
        cpu.add_row(name, f"{ms:.1f}")
    console.print(cpu)
