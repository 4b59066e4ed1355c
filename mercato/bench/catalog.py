"""`mercato bench catalog`: browsing through the gateway — the product list, product pages, search and the
storefront's product and category pages — under load from wrk.

Each run is one wrk (Debian's `wrk` package: 1 thread, `connections` keep-alive connections, `duration_s`
seconds) over a set of URLs taken in turn: a "hot" run asks for one URL again and again (what a cache
does best), a "spread" run goes through every product or category in turn (what a cache does least
well). wrk is driven by a generated Lua script that also counts answers by status and, with `rate`,
paces each connection (wrk's `delay()`: every connection waits `connections / rate` seconds between its
requests), so that latency can be read at a given rate rather than at saturation.

Around each run the benchmark reads every service's `/metrics` (SQL statements sent) and every
platform process's CPU time (`mercato.bench.cpu`), and divides by the requests made: statements and
CPU milliseconds per request, per process, wherever the work ended up (Envoy's cache, catalog, the
storefront...). The load generator's own CPU is reported too: on a two-core machine it competes with
the platform.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mercato.bench import metric_value
from mercato.bench.cpu import Processes, per_operation
from mercato.topology import Topology

WRK_INSTALL = "wrk is not installed: `sudo apt-get install -y wrk` (Debian's package) and run again"
RESULT_MARK = "MERCATO_WRK "
LOAD_GENERATOR = "load generator (wrk)"
SEARCH_QUERY = "shirt"
RUNS = (
    "list",
    "list-spread",
    "detail-hot",
    "detail-spread",
    "search",
    "storefront-product",
    "storefront-category",
    "mobile-home",
    "mobile-product",
)
PHONE_HEADERS = (("Accept-Encoding", "br, gzip"),)  # what a phone sends: the mobile API answers compressed

# The wrk script: URLs in turn, answers counted by status, an optional pause per connection, and one
# JSON line at the end (latency in microseconds).
LUA = """
local paths = {%(paths)s}
%(headers)s
local pause = %(pause_ms)d
local turn = 0
local threads = {}
statuses = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn - 1) %% #paths + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

%(delay)s

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      table.insert(counts, string.format('"%%d": %%d', status, n))
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"socket_errors": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write + errors.timeout, table.concat(counts, ", ")))
end
"""
DELAY = "function delay()\n  return pause\nend"


@dataclass(frozen=True)
class Target:
    """One run: a name, what it asks for, and the URLs it takes in turn (same host for all)."""

    name: str
    description: str
    base_url: str
    paths: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class RunResult:
    target: Target
    requests: int = 0
    elapsed_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    socket_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    statements: dict[str, float] = field(default_factory=dict)  # per request, by service
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by process

    @property
    def rate(self) -> float:
        """Answers per second, whatever their status."""
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def ok_rate(self) -> float:
        """Successful answers (2xx, 304) per second."""
        ok = sum(n for code, n in self.statuses.items() if code < 300 or code == 304)
        return ok / self.elapsed_s if self.elapsed_s else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def lua_script(paths: Sequence[str], *, pause_ms: int, headers: Sequence[tuple[str, str]] = ()) -> str:
    quoted = ", ".join(json.dumps(path) for path in paths)  # a JSON string is a valid Lua string here
    return LUA % {
        "paths": quoted,
        "headers": "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers),
        "pause_ms": pause_ms,
        "delay": DELAY if pause_ms else "",
        "mark": RESULT_MARK,
    }


def parse_wrk(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(f"wrk printed no result:\n{output}")


async def _all_pages(client: httpx.AsyncClient, url: str) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params)).raise_for_status().json()
        items += page["data"]
        if not (cursor := page["next_cursor"]):
            return items


def _category_slugs(nodes: list[dict]) -> list[str]:
    slugs = []
    for node in nodes:
        slugs += [node["slug"], *_category_slugs(node["children"])]
    return slugs


async def targets(client: httpx.AsyncClient, topology: Topology, runs: Sequence[str]) -> list[Target]:
    gateway, storefront = topology.gateway_url, topology.storefront_url
    products = await _all_pages(client, f"{gateway}/api/v1/products")
    categories = (await client.get(f"{gateway}/api/v1/categories")).raise_for_status().json()["data"]
    slugs = [p["slug"] for p in products]
    category_slugs = _category_slugs(categories)
    if not slugs:
        raise RuntimeError("the catalog has no products: start the platform with its demo catalog (make up)")
    everything = {
        "list": Target("list", "GET /api/v1/products (first page)", gateway, ("/api/v1/products",)),
        "list-spread": Target(
            "list-spread",
            f"GET /api/v1/products?category=… ({len(category_slugs)} categories in turn)",
            gateway,
            tuple(f"/api/v1/products?category={slug}" for slug in category_slugs),
        ),
        "detail-hot": Target(
            "detail-hot",
            f"GET /api/v1/products/{slugs[0]} (one product)",
            gateway,
            (f"/api/v1/products/{slugs[0]}",),
        ),
        "detail-spread": Target(
            "detail-spread",
            f"GET /api/v1/products/{{slug}} ({len(slugs)} products in turn)",
            gateway,
            tuple(f"/api/v1/products/{slug}" for slug in slugs),
        ),
        "search": Target(
            "search", f"GET /api/v1/search?q={SEARCH_QUERY}", gateway, (f"/api/v1/search?q={SEARCH_QUERY}",)
        ),
        "storefront-product": Target(
            "storefront-product",
            f"storefront GET /p/{{slug}} ({len(slugs)} products in turn)",
            storefront,
            tuple(f"/p/{slug}" for slug in slugs),
        ),
        "storefront-category": Target(
            "storefront-category",
            f"storefront GET /c/{{slug}} ({len(category_slugs)} categories in turn)",
            storefront,
            tuple(f"/c/{slug}" for slug in category_slugs),
        ),
        "mobile-home": Target(
            "mobile-home", "GET /mobile/v1/home (br)", gateway, ("/mobile/v1/home",), PHONE_HEADERS
        ),
        "mobile-product": Target(
            "mobile-product",
            f"GET /mobile/v1/products/{{slug}} ({len(slugs)} products in turn, br)",
            gateway,
            tuple(f"/mobile/v1/products/{slug}" for slug in slugs),
            PHONE_HEADERS,
        ),
    }
    return [everything[name] for name in runs]


async def _statements(client: httpx.AsyncClient, topology: Topology) -> dict[str, int]:
    counts = {}
    for name, service in topology.services.items():
        text = (await client.get(f"{service.url}/metrics")).text
        counts[name] = int(metric_value(text, "mercato_sql_statements_total"))
    return counts


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _wrk(
    wrk: str, target: Target, *, script: Path, connections: int, duration_s: float, progress: Progress
) -> dict:
    task = progress.add_task(target.name, total=duration_s)
    process = await asyncio.create_subprocess_exec(
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration_s:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        target.base_url + target.paths[0],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    started = time.perf_counter()
    communicate = asyncio.ensure_future(process.communicate())
    while not communicate.done():
        progress.update(task, completed=min(duration_s, time.perf_counter() - started))
        await asyncio.sleep(0.2)
    output = (await communicate)[0].decode()
    progress.update(task, completed=duration_s)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    return parse_wrk(output)


async def run_catalog_bench(
    *,
    runs: Sequence[str],
    duration_s: float,
    connections: int,
    rate: float | None,
    topology: Topology,
    console: Console,
) -> list[RunResult]:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(WRK_INSTALL)
    pause_ms = round(connections / rate * 1000) if rate else 0
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        with console.status("Listing products and categories…"):
            chosen = await targets(client, topology, runs)
        processes = Processes.find(topology)
        results = []
        columns = (TextColumn("{task.description:>20}"), BarColumn(), TimeRemainingColumn())
        with (
            tempfile.TemporaryDirectory(prefix="mercato-bench-") as workdir,
            Progress(*columns, console=console) as progress,
        ):
            for target in chosen:
                script = Path(workdir) / f"{target.name}.lua"
                script.write_text(lua_script(target.paths, pause_ms=pause_ms, headers=target.headers))
                statements_before, cpu_before = await _statements(client, topology), processes.snapshot()
                wrk_before = _children_cpu_s()
                raw = await _wrk(
                    wrk,
                    target,
                    script=script,
                    connections=connections,
                    duration_s=duration_s,
                    progress=progress,
                )
                wrk_cpu_s = _children_cpu_s() - wrk_before
                cpu_after, statements_after = processes.snapshot(), await _statements(client, topology)
                requests = max(int(raw["requests"]), 1)
                cpu = per_operation(cpu_before, cpu_after, requests)
                cpu[LOAD_GENERATOR] = wrk_cpu_s * 1000 / requests
                results.append(
                    RunResult(
                        target=target,
                        requests=int(raw["requests"]),
                        elapsed_s=raw["duration_us"] / 1e6,
                        p50_ms=raw["p50_us"] / 1000,
                        p99_ms=raw["p99_us"] / 1000,
                        max_ms=raw["max_us"] / 1000,
                        socket_errors=int(raw["socket_errors"]),
                        statuses={int(code): n for code, n in raw["statuses"].items()},
                        statements={
                            name: (statements_after[name] - statements_before[name]) / requests
                            for name in statements_after
                        },
                        cpu_ms=cpu,
                    )
                )
    return results


def _by_run(title: str, results: list[RunResult], values: str, *, at_least: float, digits: int) -> Table:
    """Runs down, processes (or services) across: only those with at least `at_least` in some run."""
    table = Table(title=title)
    table.add_column("run")
    columns = [
        name
        for name in getattr(results[0], values)
        if name in ("all", LOAD_GENERATOR) or any(getattr(r, values)[name] >= at_least for r in results)
    ]
    for name in columns:
        table.add_column(name, justify="right")
    for result in results:
        row = getattr(result, values)
        table.add_row(result.target.name, *(f"{row.get(name, float('nan')):.{digits}f}" for name in columns))
    return table


def print_results(
    results: list[RunResult], *, duration_s: float, connections: int, rate: float | None, console: Console
) -> None:
    if not results:
        return
    pacing = f"paced at {rate:g} requests/s" if rate else "closed loop"
    summary = Table(
        title=f"mercato bench catalog: wrk, 1 thread, {connections} connections, {duration_s:g} s, {pacing}"
    )
    for column in ("run", "ok/s", "all/s", "p50", "p99", "max", "answers", "SQL/req", "CPU ms/req"):
        summary.add_column(column, justify="left" if column in ("run", "answers") else "right")
    for result in results:
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
        if result.socket_errors:
            answers += f", socket errors: {result.socket_errors}"
        summary.add_row(
            result.target.name,
            f"{result.ok_rate:,.0f}",
            f"{result.rate:,.0f}",
            f"{result.p50_ms:.1f} ms",
            f"{result.p99_ms:.1f} ms",
            f"{result.max_ms:.0f} ms",
            answers,
            f"{sum(result.statements.values()):.2f}",
            f"{result.cpu_ms['all']:.2f}",
        )
    console.print(summary)
    for result in results:
        console.print(f"  [bold]{result.target.name}[/]: {result.target.description}")
    console.print(
        _by_run("SQL statements per request, by service", results, "statements", at_least=0.01, digits=2)
    )
    console.print(
        _by_run(
            "CPU ms per request, by process (all: the platform's)",
            results,
            "cpu_ms",
            at_least=0.005,
            digits=3,
        )
    )
