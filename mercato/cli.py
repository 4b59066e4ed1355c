"""`mercato`: set up, seed, run and measure the platform."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mercato.topology import Topology, var_dir

app = typer.Typer(
    help="Mercato: an e-commerce platform of independent services behind one gateway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

SERVICE_SETTINGS = {
    "customers": "mercato.services.customers.settings:CustomersSettings",
    "catalog": "mercato.services.catalog.settings:CatalogSettings",
    "orders": "mercato.services.orders.settings:OrdersSettings",
    "payments": "mercato.services.payments.settings:PaymentsSettings",
}


def _settings(service: str):
    module, _, name = SERVICE_SETTINGS[service].partition(":")
    return getattr(__import__(module, fromlist=[name]), name)()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="Default: every service.")] = None,
) -> None:
    """Bring each service's own database to its latest schema."""
    from mercato.platform.migrations import upgrade

    for service in services or list(SERVICE_SETTINGS):
        upgrade(service, _settings(service).database_url)
        console.print(f"[green]✓[/] {service} migrated")


@app.command()
def seed() -> None:
    """Load the demo catalog (skipped when the catalog already has products)."""
    from mercato.platform.db import Database
    from mercato.services.catalog.main import image_store
    from mercato.services.catalog.seed import seed_demo_catalog

    settings = _settings("catalog")

    async def _seed() -> None:
        db = Database(settings.database_url)
        try:
            with _progress() as progress:
                report = await seed_demo_catalog(db, image_store(settings), progress=progress)
        finally:
            await db.dispose()
        if report.skipped:
            console.print("[yellow]•[/] catalog already has products; demo seed skipped")
        else:
            console.print(
                f"[green]✓[/] seeded {report.products} products, {report.variants} variants, "
                f"{report.categories} categories, {report.images} images"
            )

    asyncio.run(_seed())


@app.command()
def serve(service: str) -> None:
    """Run one service in the foreground (what `mercato up` starts for each service)."""
    import uvicorn

    settings = _settings(service)
    uvicorn.run(
        Topology.from_env().service(service).app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        # Longer than Envoy's upstream idle timeout, so Envoy never reuses a connection we just closed.
        timeout_keep_alive=75,
        timeout_graceful_shutdown=10,
    )


@app.command("gateway-config")
def gateway_config() -> None:
    """Print the Envoy configuration generated from the route table and the topology."""
    import json

    from mercato.gateway.envoy import build_config
    from mercato.gateway.settings import GatewaySettings

    console.print_json(json.dumps(build_config(Topology.from_env(), GatewaySettings())))


def _print_urls(topology: Topology) -> None:
    table = Table(title="Mercato is running", title_style="bold green", show_lines=False)
    table.add_column("what")
    table.add_column("URL")
    table.add_row("API gateway (the public door)", topology.gateway_url)
    table.add_row("  products", f"{topology.gateway_url}/api/v1/products")
    table.add_row("  categories", f"{topology.gateway_url}/api/v1/categories")
    for name, service in topology.services.items():
        table.add_row(f"{name} OpenAPI docs (private)", f"{service.url}/docs")
    table.add_row("Envoy admin (private)", f"http://127.0.0.1:{topology.envoy_admin_port}")
    table.add_row("payment provider sandbox (Stripe API)", topology.payment_sandbox_url)
    table.add_row(
        "event broker (NATS JetStream)", f"{topology.broker_url}  (monitor :{topology.broker_monitor_port})"
    )
    console.print(table)
    console.print("Press Ctrl-C to stop.")


@app.command()
def up(
    seed_demo: Annotated[
        bool, typer.Option("--seed/--no-seed", help="Seed the demo catalog if empty.")
    ] = True,
) -> None:
    """Set up and run the whole platform: migrate, seed, start Envoy and every service, print the URLs."""
    from mercato.gateway.envoy import envoy_command, write_config
    from mercato.gateway.settings import GatewaySettings
    from mercato.supervisor import ProcessSpec, run

    topology = Topology.from_env()
    migrate(None)
    if seed_demo:
        seed()
    config = write_config(topology, GatewaySettings(), var_dir() / "gateway" / "envoy.json")
    env = {"MERCATO_VAR_DIR": str(var_dir()), "MERCATO_PORT_OFFSET": str(topology.offset)}
    sandbox_env = env | {"MERCATO_PAYMENT_SANDBOX_WEBHOOK_URL": f"{topology.gateway_url}/webhooks/stripe"}
    broker_store = var_dir() / "nats"
    specs = [
        ProcessSpec(
            name="broker",
            argv=[
                str(Path(sys.executable).parent / "nats-server"),
                "-a",
                "127.0.0.1",
                "-p",
                str(topology.broker_port),
                "--http_port",
                str(topology.broker_monitor_port),
                "-js",
                "-sd",
                str(broker_store),
            ],
            env=env,
            ready_url=f"http://127.0.0.1:{topology.broker_monitor_port}/healthz?js-enabled-only=true",
        ),
        ProcessSpec(
            name="payment-sandbox",
            argv=[sys.executable, "-m", "mercato.sandbox.payments"],
            env=sandbox_env,
            ready_url=f"{topology.payment_sandbox_url}/_sandbox/health",
        ),
        *(
            ProcessSpec(
                name=name,
                argv=[sys.executable, "-m", "mercato", "serve", name],
                env=env,
                ready_url=f"{service.url}/readyz",
            )
            for name, service in topology.services.items()
        ),
    ]
    specs.append(
        ProcessSpec(
            name="gateway",
            argv=envoy_command(config),
            env=env,
            ready_url=f"http://127.0.0.1:{topology.envoy_admin_port}/ready",
        )
    )
    sys.exit(asyncio.run(run(specs, on_ready=lambda: _print_urls(topology))))


bench = typer.Typer(
    help="Benchmarks against a running platform (start it with `make up`).", no_args_is_help=True
)
app.add_typer(bench, name="bench")


@bench.command("checkout")
def bench_checkout(
    customers: Annotated[int, typer.Option(help="Concurrent virtual customers.")] = 20,
    duration: Annotated[float, typer.Option(help="Seconds to run.")] = 20.0,
    rate: Annotated[
        float | None, typer.Option(help="Checkouts/s to offer (open loop); default: flat out.")
    ] = None,
) -> None:
    """Customers buying through the gateway: checkouts/s, latency percentiles, SQL statements per checkout."""
    from mercato.bench.checkout import print_result, run_checkout_bench

    result = asyncio.run(
        run_checkout_bench(
            customers=customers, duration_s=duration, rate=rate, topology=Topology.from_env(), console=console
        )
    )
    print_result(result, customers=customers, rate=rate, console=console)


payments_cli = typer.Typer(help="Payments operations.", no_args_is_help=True)
app.add_typer(payments_cli, name="payments")


@payments_cli.command("reconcile")
def payments_reconcile() -> None:
    """Compare payment records with the provider; list every difference (exit 1 if there are any)."""
    from mercato.platform.db import Database
    from mercato.services.payments.provider import Provider
    from mercato.services.payments.reconcile import reconcile

    settings = _settings("payments")

    async def _run():
        db = Database(settings.database_url)
        try:
            return await reconcile(db, Provider(settings))
        finally:
            await db.dispose()

    differences = asyncio.run(_run())
    if not differences:
        console.print("[green]✓[/] payment records and the provider agree")
        return
    table = Table(title=f"{len(differences)} differences between Mercato and the payment provider")
    for column in ("order", "intent", "problem", "Mercato", "provider"):
        table.add_column(column)
    for d in differences:
        table.add_row(d.order_id or "-", d.intent_id or "-", d.problem, d.ours, d.provider)
    console.print(table)
    raise typer.Exit(1)


def main() -> None:
    os.environ.setdefault("MERCATO_VAR_DIR", str(var_dir()))
    app()
