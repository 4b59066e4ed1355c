"""`mercato bench …`: benchmarks against a running platform (figures in docs/performance.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mercato.topology import Topology

console = Console()

bench = typer.Typer(
    help="Benchmarks against a running platform (start it with `make up`).", no_args_is_help=True
)


@bench.command("checkout")
def bench_checkout(
    customers: Annotated[int, typer.Option(help="Concurrent virtual customers.")] = 20,
    duration: Annotated[float, typer.Option(help="Seconds to run.")] = 20.0,
    rate: Annotated[
        float | None, typer.Option(help="Checkouts/s to offer (open loop); default: flat out.")
    ] = None,
) -> None:
    """Customers buying through the gateway: checkouts/s, latency percentiles, SQL statements and CPU
    milliseconds per checkout, by service and process."""
    from mercato.bench.checkout import print_result, run_checkout_bench

    result = asyncio.run(
        run_checkout_bench(
            customers=customers, duration_s=duration, rate=rate, topology=Topology.from_env(), console=console
        )
    )
    print_result(result, customers=customers, rate=rate, console=console)


@bench.command("catalog")
def bench_catalog(
    duration: Annotated[float, typer.Option(help="Seconds per run.")] = 8.0,
    connections: Annotated[int, typer.Option(help="wrk connections (one wrk thread).")] = 32,
    rate: Annotated[
        float | None,
        typer.Option(
            help="Requests/s to offer, paced per connection (latency at a rate); default: flat out."
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="Only these runs (repeat): list, list-spread, detail-hot, detail-spread, search, "
            "storefront-product, storefront-category, mobile-home, mobile-product.",
        ),
    ] = None,
) -> None:
    """Browsing through the gateway with wrk: product list, product pages (one hot and all in turn), search,
    the storefront's product and category pages — requests/s, p50/p99, answers, SQL statements and CPU ms
    per request per process."""
    from mercato.bench.catalog import RUNS, WRK_INSTALL, print_results, run_catalog_bench, wrk_path

    runs = only or list(RUNS)
    if unknown := [run for run in runs if run not in RUNS]:
        console.print(f"[red]✗[/] unknown run(s): {', '.join(unknown)}; choose from {', '.join(RUNS)}")
        raise typer.Exit(2)
    if wrk_path() is None:
        console.print(f"[red]✗[/] {WRK_INSTALL}")
        raise typer.Exit(2)
    results = asyncio.run(
        run_catalog_bench(
            runs=runs,
            duration_s=duration,
            connections=connections,
            rate=rate,
            topology=Topology.from_env(),
            console=console,
        )
    )
    print_results(results, duration_s=duration, connections=connections, rate=rate, console=console)


@bench.command("mobile")
def bench_mobile(
    throughput: Annotated[
        bool, typer.Option("--wrk/--no-wrk", help="Also requests/s of the home and product screens (wrk).")
    ] = True,
    duration: Annotated[float, typer.Option(help="Seconds per wrk run.")] = 8.0,
    connections: Annotated[int, typer.Option(help="wrk connections (one wrk thread).")] = 32,
) -> None:
    """Each screen of the app through the mobile API against the web API: bytes as a phone receives them
    (brotli, gzip, uncompressed) and calls; then requests/s of /mobile/v1/home and product pages (wrk)."""
    from mercato.bench.mobile import print_results, run_mobile_bench

    topology = Topology.from_env()
    print_results(asyncio.run(run_mobile_bench(topology=topology, console=console)), console)
    if not throughput:
        return
    from mercato.bench.catalog import WRK_INSTALL, run_catalog_bench, wrk_path
    from mercato.bench.catalog import print_results as print_wrk_results

    if wrk_path() is None:
        console.print(f"[yellow]•[/] no requests/s: {WRK_INSTALL}")
        return
    runs = ["mobile-home", "mobile-product", "detail-spread"]
    results = asyncio.run(
        run_catalog_bench(
            runs=runs,
            duration_s=duration,
            connections=connections,
            rate=None,
            topology=topology,
            console=console,
        )
    )
    print_wrk_results(results, duration_s=duration, connections=connections, rate=None, console=console)


@bench.command("sign-in")
def bench_sign_in(
    rate: Annotated[float, typer.Option(help="Wrong-password sign-ins per second (open loop).")] = 20.0,
    duration: Annotated[float, typer.Option(help="Seconds to run.")] = 10.0,
    addresses: Annotated[int, typer.Option(help="Distinct client addresses the flood comes from.")] = 1,
) -> None:
    """A shopper signing in while others flood sign-in with wrong passwords: their latency and success."""
    from mercato.bench.sign_in import print_result, run_sign_in_bench

    result = asyncio.run(
        run_sign_in_bench(
            rate=rate, duration_s=duration, addresses=addresses, topology=Topology.from_env(), console=console
        )
    )
    print_result(result, rate=rate, addresses=addresses, console=console)


@bench.command("events")
def bench_events(
    rate: Annotated[float, typer.Option(help="Orders per second to place (open loop).")] = 10.0,
    duration: Annotated[float, typer.Option(help="Seconds to order for.")] = 20.0,
    customers: Annotated[int, typer.Option(help="Virtual customers taking turns.")] = 20,
) -> None:
    """Lag from OrderPlaced to the confirmation e-mail accepted by SMTP, at a steady order rate."""
    from mercato.bench.events import print_lag, run_lag_bench

    result = asyncio.run(
        run_lag_bench(
            rate=rate, duration_s=duration, customers=customers, topology=Topology.from_env(), console=console
        )
    )
    print_lag(result, console)


@bench.command("drain")
def bench_drain(
    events: Annotated[int, typer.Option(help="OrderPlaced events in the backlog.")] = 5000,
    customers: Annotated[int, typer.Option(help="Customers they belong to.")] = 50,
) -> None:
    """Backlog drain after an outage: relayed from the outbox, consumed and e-mailed by notifications
    (self-contained: own NATS, SMTP sink and databases in a temp dir); events/s and CPU ms per event."""
    from mercato.bench.drain import print_drain, run_drain_bench

    print_drain(asyncio.run(run_drain_bench(events=events, customers=customers, console=console)), console)


@bench.command("search")
def bench_search(
    products: Annotated[int, typer.Option(help="Synthetic products to index.")] = 100_000,
    queries: Annotated[int, typer.Option(help="Queries per kind.")] = 300,
    lag: Annotated[
        int,
        typer.Option(
            help="Instead: against a running platform, create N products and time each until searchable."
        ),
    ] = 0,
) -> None:
    """The search index alone: build time, query latency with facets, update-to-visible lag
    (`--lag N`: end to end through a running platform instead)."""
    from mercato.bench.search_index import build_and_query

    if lag:
        from mercato.bench.checkout import percentile
        from mercato.bench.events import run_search_lag_bench

        lags = asyncio.run(run_search_lag_bench(products=lag, topology=Topology.from_env(), console=console))
        table = Table(
            title=f"Product created in catalog → found by search through the gateway ({lag} products)"
        )
        for column in ("p50", "p90", "p99", "max"):
            table.add_column(column, justify="right")
        table.add_row(*(f"{percentile(lags, p):.1f} ms" for p in (50, 90, 99)), f"{max(lags):.1f} ms")
        console.print(table)
        return

    from mercato.cli import progress_bar

    with progress_bar() as progress:
        task = progress.add_task("Indexing synthetic products", total=products)
        result = build_and_query(
            products, queries=queries, on_progress=lambda done: progress.update(task, completed=done)
        )
    table = Table(title=f"Search index: {result.products:,} products, {result.index_bytes / 1e6:.1f} MB")
    for column in ("measure", "p50", "p99"):
        table.add_column(column, justify="right")
    table.add_row("build (whole index)", f"{result.build_s:.1f} s", "")
    for name, latency in (
        ("one word + facets", result.one_word),
        ("two words + facets", result.two_words),
        ("two words, category, size, in stock + facets", result.filtered),
        ("suggest", result.suggest),
        ("update → visible", result.update_visible),
    ):
        table.add_row(name, f"{latency.p50:.1f} ms", f"{latency.p99:.1f} ms")
    console.print(table)


@bench.command("storefront")
def bench_storefront(
    pages: Annotated[int, typer.Option(help="Page loads in Chromium, cold cache and warm cache each.")] = 50,
    requests: Annotated[
        int, typer.Option(help="Requests per target for TTFB over a warm connection (httpx).")
    ] = 500,
    url: Annotated[
        str | None, typer.Option(help="Storefront base URL; default: the topology's (MERCATO_PORT_OFFSET).")
    ] = None,
) -> None:
    """The product page: TTFB over a warm connection and in Chromium, LCP in Chromium (cold and warm)."""
    from mercato.bench.storefront import CHROMIUM, print_result, run_storefront_bench

    try:
        import playwright  # noqa: F401 - a development dependency: say so plainly if it is missing
    except ImportError:
        console.print("[red]✗[/] needs Playwright: pip install -e '.[dev]' (or `make setup`)")
        raise typer.Exit(2) from None
    if not Path(CHROMIUM).exists():
        console.print(f"[red]✗[/] needs Chromium at {CHROMIUM}: `make browser` installs Debian's")
        raise typer.Exit(2)
    result = asyncio.run(
        run_storefront_bench(
            pages=pages, requests=requests, storefront_url=url, topology=Topology.from_env(), console=console
        )
    )
    print_result(result, console)
