"""`mercato`: set up, seed, run and measure the platform."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mercato.cli_bench import bench
from mercato.cli_deploy import deploy_cli
from mercato.cli_keys import keys_cli
from mercato.cli_promotions import promotions_cli
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
    "notifications": "mercato.services.notifications.settings:NotificationsSettings",
    "search": "mercato.services.search.settings:SearchSettings",
}

# What `mercato serve` runs: the services, and the mobile API (no database: nothing to migrate).
APP_SETTINGS = {
    **SERVICE_SETTINGS,
    "mobile-api": "mercato.services.mobile_api.settings:MobileApiSettings",
}

# Every service that consumes events, by the module holding its `handlers`.
CONSUMERS = {
    "catalog": "mercato.services.catalog.consumers",
    "customers": "mercato.services.customers.consumers",
    "notifications": "mercato.services.notifications.consumers",
    "orders": "mercato.services.orders.consumers",
    "payments": "mercato.services.payments.consumers",
    "search": "mercato.services.search.consumers",
}


def _settings(service: str):
    module, _, name = APP_SETTINGS[service].partition(":")
    return getattr(__import__(module, fromlist=[name]), name)()


def progress_bar() -> Progress:
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
        db = Database(settings.database_url, keys=settings.keys())
        try:
            with progress_bar() as progress:
                report = await seed_demo_catalog(
                    db, image_store(settings), progress=progress, image_base_url=settings.image_base_url
                )
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
    """Run one service (or the mobile API) in the foreground (what `mercato up` starts for each)."""
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


def _print_urls(topology: Topology, *, staff: tuple[str, str] | None = None) -> None:
    table = Table(title="Mercato is running", title_style="bold green", show_lines=False)
    table.add_column("what")
    table.add_column("URL")
    table.add_row("storefront (the shop: open this)", topology.storefront_url)
    table.add_row("admin app (the back office, staff only)", topology.admin_url)
    table.add_row("API gateway (the public door)", topology.gateway_url)
    table.add_row("  products", f"{topology.gateway_url}/api/v1/products")
    table.add_row("  categories", f"{topology.gateway_url}/api/v1/categories")
    table.add_row("  mobile API (the apps' door)", f"{topology.gateway_url}/mobile/v1/home")
    for name, service in topology.upstreams.items():
        table.add_row(f"{name} OpenAPI docs (private)", f"{service.url}/docs")
    table.add_row("Envoy admin (private)", f"http://127.0.0.1:{topology.envoy_admin_port}")
    if staff:
        table.add_row(*staff)
    table.add_row("payment provider sandbox (Stripe API)", topology.payment_sandbox_url)
    table.add_row("e-mail sink: every e-mail sent (web view)", topology.mail_sink_web_url)
    table.add_row("SMS sandbox: every SMS sent (Twilio API)", topology.sms_sandbox_url)
    table.add_row("push stand-ins: every push sent (APNs, FCM)", topology.push_sandbox_url)
    from mercato.platform.broker import BrokerSettings

    broker = BrokerSettings()
    if broker.url:
        table.add_row(f"event broker ({broker.kind})", broker.url.split("@")[-1])
    else:
        table.add_row(
            "event broker (NATS JetStream)",
            f"{topology.broker_url}  (monitor :{topology.broker_monitor_port})",
        )
    console.print(table)
    console.print("Press Ctrl-C to stop.")


@app.command()
def up(
    seed_demo: Annotated[
        bool, typer.Option("--seed/--no-seed", help="Seed the demo catalog if empty.")
    ] = True,
    without: Annotated[
        list[str] | None,
        typer.Option(help="Don't start this process (e.g. to run it yourself in a debugger); repeatable."),
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            help="embedded: SQLite files, one NATS. scale-out: a PostgreSQL database and role per service "
            "(MERCATO_POSTGRES_ADMIN_URL), a 3-node NATS JetStream cluster (unless MERCATO_BROKER_URL)."
        ),
    ] = "embedded",
    replicas: Annotated[
        int,
        typer.Option(
            min=1, help="Processes of every service (search: one) and of the mobile API, behind Envoy."
        ),
    ] = 1,
) -> None:
    """Set up and run the whole platform: migrate, seed, start Envoy and every service, print the URLs."""
    from mercato import scale_out
    from mercato.gateway.envoy import envoy_command, write_config
    from mercato.gateway.settings import GatewaySettings
    from mercato.platform.broker import BrokerSettings
    from mercato.supervisor import ProcessSpec, run

    if profile not in scale_out.PROFILES:
        console.print(f"[red]✗[/] --profile: one of {', '.join(scale_out.PROFILES)}")
        raise typer.Exit(2)
    os.environ["MERCATO_REPLICAS"] = str(replicas)
    topology = Topology.from_env()
    cluster = profile == "scale-out" and scale_out.prepare_scale_out(topology)
    broker_settings = BrokerSettings()
    embedded_broker = not broker_settings.url  # the default: NATS from pip, run here
    migrate(None)
    if seed_demo:
        seed()
    staff = _seed_initial_admin()  # development: the back office's first admin
    # The push stand-ins' credentials (APNs .p8 key, FCM service account, TLS certificate), as other keys
    from mercato.sandbox import push_keys

    push_keys.ensure(var_dir() / "keys", token_uri=f"{topology.push_sandbox_url}/token")
    config = write_config(topology, GatewaySettings(), var_dir() / "gateway" / "envoy.json")
    env = {"MERCATO_VAR_DIR": str(var_dir()), "MERCATO_PORT_OFFSET": str(topology.offset)}
    sandbox_env = env | {"MERCATO_PAYMENT_SANDBOX_WEBHOOK_URL": f"{topology.gateway_url}/webhooks/stripe"}
    if cluster:
        brokers = scale_out.broker_cluster(topology, env, _declare_subscriptions)
    elif embedded_broker:
        brokers = [scale_out.single_broker(topology, env, _declare_subscriptions)]
    else:
        brokers = []
        _broker_setup_or_warn()
    specs = [
        *brokers,
        ProcessSpec(
            name="payment-sandbox",
            argv=[sys.executable, "-m", "mercato.sandbox.payments"],
            env=sandbox_env,
            ready_url=f"{topology.payment_sandbox_url}/_sandbox/health",
        ),
        ProcessSpec(
            name="mail-sink",
            argv=[sys.executable, "-m", "mercato.sandbox.mail"],
            env=env,
            ready_url=f"{topology.mail_sink_web_url}/_sandbox/health",
        ),
        ProcessSpec(
            name="sms-sandbox",
            argv=[sys.executable, "-m", "mercato.sandbox.sms"],
            env=env,
            ready_url=f"{topology.sms_sandbox_url}/_sandbox/health",
        ),
        ProcessSpec(
            name="push-sandbox",
            argv=[sys.executable, "-m", "mercato.sandbox.push"],
            env=env,
            ready_url=f"{topology.push_sandbox_url}/_sandbox/health",
        ),
        *scale_out.services(topology, env),
    ]
    skipped = set(without or ())
    unknown = skipped - {spec.name for spec in specs} - {"gateway", "storefront", "admin"}
    if unknown:
        console.print(f"[red]✗[/] --without: no process named {', '.join(sorted(unknown))}")
        raise typer.Exit(2)
    specs.append(
        ProcessSpec(
            name="gateway",
            argv=envoy_command(config),
            env=env,
            ready_url=f"http://127.0.0.1:{topology.envoy_admin_port}/ready",
            then=scale_out.replicas_healthy(topology) if topology.replicas > 1 else None,
        )
    )
    specs.append(
        ProcessSpec(
            name="storefront",
            argv=[sys.executable, "-m", "mercato.storefront"],
            env=env,
            ready_url=f"{topology.storefront_url}/healthz",
        )
    )
    specs.append(
        ProcessSpec(
            name="admin",
            argv=[sys.executable, "-m", "mercato.admin"],
            env=env,
            ready_url=f"http://127.0.0.1:{topology.admin_port}/healthz",
        )
    )
    specs = [spec for spec in specs if spec.name not in skipped]
    sys.exit(asyncio.run(run(specs, on_ready=lambda: _print_urls(topology, staff=staff))))


def _all_subscriptions():
    import importlib

    return [
        subscription
        for module in CONSUMERS.values()
        for subscription in importlib.import_module(module).handlers.subscriptions()
    ]


async def _declare_subscriptions() -> None:
    from mercato.platform.broker import Broker, BrokerSettings

    broker = Broker(BrokerSettings())
    try:
        await broker.start()
        await broker.declare(_all_subscriptions())
    finally:
        await broker.stop()


def _broker_setup_or_warn() -> None:
    try:
        asyncio.run(_declare_subscriptions())
        console.print("[green]✓[/] broker subscriptions declared")
    except Exception as exc:
        console.print(
            f"[yellow]•[/] broker not reachable ({type(exc).__name__}); consumers declare their own "
            "subscriptions when they connect"
        )


broker_cli = typer.Typer(help="The event broker.", no_args_is_help=True)
app.add_typer(broker_cli, name="broker")


@broker_cli.command("setup")
def broker_setup() -> None:
    """Declare the event stream (or exchange) and every service's durable subscription, so events
    published before a consumer first runs wait for it. Idempotent; `mercato up` runs it."""
    from mercato.platform.broker import BrokerSettings

    asyncio.run(_declare_subscriptions())
    settings = BrokerSettings()
    table = Table(title=f"Subscriptions on {settings.kind} ({settings.namespace})")
    for column in ("subscription", "events"):
        table.add_column(column)
    for subscription in _all_subscriptions():
        table.add_row(subscription.name, ", ".join(subscription.event_types))
    console.print(table)


events_cli = typer.Typer(help="Events: dead letters and the AsyncAPI document.", no_args_is_help=True)
app.add_typer(events_cli, name="events")
dead_letters_cli = typer.Typer(
    help="Events a consumer failed on after every retry: list, inspect, replay.", no_args_is_help=True
)
events_cli.add_typer(dead_letters_cli, name="dead-letters")


def _internal(service: str, method: str, path: str, **kwargs):
    import httpx

    url = Topology.from_env().service(service).url
    try:
        response = httpx.request(method, f"{url}{path}", timeout=60, trust_env=False, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]✗[/] {service} is not reachable at {url} ({type(exc).__name__}); is it running?")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        console.print(f"[red]✗[/] {service}: {body.get('detail') or response.text[:300]}")
        raise typer.Exit(1)
    return response.json()


ServiceOption = Annotated[
    list[str] | None, typer.Option("--service", "-s", help="Default: every consuming service.")
]


@dead_letters_cli.command("list")
def dead_letters_list(
    service: ServiceOption = None,
    status: Annotated[str, typer.Option(help="dead, replayed or all")] = "dead",
) -> None:
    """Dead letters of every consuming service (or those named), newest first."""
    table = Table(title="Dead letters")
    for column in ("service", "id", "event", "handler", "attempts", "error", "status", "since"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    count = 0
    for name in service or list(CONSUMERS):
        for row in _internal(name, "GET", "/internal/dead-letters", params={"status": status})["data"]:
            count += 1
            table.add_row(
                name,
                row["id"],
                f"{row['event_type']} {row['event_id']}",
                row["handler"],
                str(row["attempts"]),
                row["error"][:120],
                row["status"],
                row["created_at"][:19],
            )
    console.print(table if count else "[green]✓[/] no dead letters")


def _owner_of(dead_letter_id: str, services: list[str] | None) -> str:
    """The consuming service that holds a dead letter (ids are unique across services)."""
    import httpx

    for name in services or list(CONSUMERS):
        url = Topology.from_env().service(name).url
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/internal/dead-letters/{dead_letter_id}", trust_env=False).status_code == 200:
                return name
    console.print(f"[red]✗[/] no running service holds dead letter {dead_letter_id}")
    raise typer.Exit(1)


@dead_letters_cli.command("show")
def dead_letters_show(dead_letter_id: str, service: ServiceOption = None) -> None:
    """One dead letter: its event envelope and the full error."""
    owner = _owner_of(dead_letter_id, service)
    console.print_json(data=_internal(owner, "GET", f"/internal/dead-letters/{dead_letter_id}"))


@dead_letters_cli.command("replay")
def dead_letters_replay(
    dead_letter_id: Annotated[str | None, typer.Argument(help="One dead letter; omit with --all.")] = None,
    service: ServiceOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    handler: Annotated[str | None, typer.Option(help="With --all: only this handler's.")] = None,
) -> None:
    """Run the handler again, after you fixed what made it fail; a success takes effect once."""
    if bool(dead_letter_id) == all_:
        console.print("[red]✗[/] give one dead letter id, or --all")
        raise typer.Exit(2)
    if dead_letter_id:
        owner = _owner_of(dead_letter_id, service)
        result = _internal(owner, "POST", f"/internal/dead-letters/{dead_letter_id}/replay")
        note = "" if result["took_effect"] else " (it had already taken effect)"
        console.print(f"[green]✓[/] {owner}: {dead_letter_id} replayed{note}")
        return
    failed = 0
    for name in service or list(CONSUMERS):
        params = {"handler": handler} if handler else {}
        report = _internal(name, "POST", "/internal/dead-letters/replay", params=params)
        for replayed in report["replayed"]:
            console.print(f"[green]✓[/] {name}: {replayed} replayed")
        for failed_id, error in report["failed"].items():
            failed += 1
            console.print(f"[red]✗[/] {name}: {failed_id} failed again: {error}")
    if failed:
        raise typer.Exit(1)


@events_cli.command("asyncapi")
def events_asyncapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file; default: print it.")
    ] = None,
) -> None:
    """The AsyncAPI document of every event and every subscription, generated from the code."""
    from mercato.platform.asyncapi import asyncapi_json

    document = asyncapi_json(_all_subscriptions())
    if output is None:
        sys.stdout.write(document)
        return
    output.write_text(document, encoding="utf-8")
    console.print(f"[green]✓[/] wrote {output}")


app.add_typer(bench, name="bench")

search_cli = typer.Typer(help="Search operations.", no_args_is_help=True)
app.add_typer(search_cli, name="search")


@search_cli.command("rebuild")
def search_rebuild() -> None:
    """Rebuild the search index from catalog's products; searches keep working meanwhile."""
    import time

    _internal("search", "POST", "/internal/rebuild")
    with progress_bar() as progress:
        fetching = progress.add_task("Reading products from catalog", total=None)
        indexing = progress.add_task("Indexing", total=None)
        while True:
            status = _internal("search", "GET", "/internal/rebuild")
            progress.update(fetching, completed=status["fetched"])
            if status["state"] in ("indexing", "done"):
                progress.update(fetching, total=status["fetched"])
                progress.update(indexing, total=status["fetched"], completed=status["indexed"])
            if status["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
    if status["state"] == "failed":
        console.print(f"[red]✗[/] rebuild failed: {status['error']}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] index rebuilt: {status['indexed']} products")


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
        db = Database(settings.database_url, keys=settings.keys())
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


staff_cli = typer.Typer(
    help="Staff accounts of the back office (in the customers database; every change is audited as `cli`).",
    no_args_is_help=True,
)
app.add_typer(staff_cli, name="staff")
app.add_typer(keys_cli, name="keys")
app.add_typer(promotions_cli, name="promotions")
app.add_typer(deploy_cli, name="deploy")


def _staff_unit_of_work(work):
    """Run `work(session, realm)` in one unit of work on the customers database; a refusal (a Problem)
    is printed and exits 1."""
    from mercato.platform.db import Database
    from mercato.platform.errors import Problem
    from mercato.services.customers.staff.credentials import StaffRealm

    settings = _settings("customers")

    async def _run():
        db = Database(settings.database_url, keys=settings.keys())
        try:
            async with db.unit_of_work() as session:
                return await work(session, StaffRealm.from_settings(settings))
        finally:
            await db.dispose()

    try:
        return asyncio.run(_run())
    except Problem as problem:
        console.print(f"[red]✗[/] {problem.detail}")
        raise typer.Exit(1) from None


def _staff_member(email_or_id: str):
    """The staff use case `action(session, [realm,] staff_id, actor=…)` applied to a staff member named
    by e-mail or id, as the command-line actor."""
    from mercato.platform.errors import NotFound
    from mercato.services.customers.staff.service import command_line_actor, find_member

    def run(action, *, with_realm: bool = False):
        async def work(session, realm):
            member = await find_member(session, email_or_id)
            if member is None:
                raise NotFound(f"No staff member {email_or_id}.")
            args = (realm, member.id) if with_realm else (member.id,)
            return await action(session, *args, actor=command_line_actor())

        return _staff_unit_of_work(work)

    return run


@staff_cli.command("create")
def staff_create(
    email: str,
    role: Annotated[
        list[str], typer.Option("--role", "-r", help="merchandising, operations, support, admin; repeatable.")
    ],
    name: Annotated[str, typer.Option(help="Their name, as colleagues see it.")],
) -> None:
    """Create a staff member with a temporary password, printed once."""
    from pydantic import ValidationError

    from mercato.services.customers.staff.schemas import StaffIn
    from mercato.services.customers.staff.service import command_line_actor, create_staff

    try:
        data = StaffIn(email=email, name=name, roles=role)
    except ValidationError as exc:
        problems = "; ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
        console.print(f"[red]✗[/] {problems}")
        raise typer.Exit(2) from None
    created = _staff_unit_of_work(
        lambda session, realm: create_staff(session, realm, data, actor=command_line_actor())
    )
    console.print(f"[green]✓[/] {created.id} {created.email} ({', '.join(created.roles)})")
    console.print(f"  temporary password: [bold]{created.temporary_password}[/]  (shown once)")
    console.print("  At first sign-in they choose their own password and enrol TOTP in an authenticator app.")


@staff_cli.command("list")
def staff_list() -> None:
    """Every staff member: roles, status, second factor, lockout, last sign-in."""
    from mercato.services.customers.staff.service import list_staff

    members = _staff_unit_of_work(lambda session, _realm: list_staff(session, after=None, limit=100_000))
    table = Table(title=f"{len(members)} staff")
    for column in ("id", "e-mail", "name", "roles", "status", "TOTP", "last sign-in"):
        table.add_column(column, no_wrap=column == "id")
    for m in members:
        status = "locked" if m.locked_until else "active" if m.active else "disabled"
        totp = f"yes ({m.recovery_codes_remaining} recovery codes)" if m.mfa_enrolled else "not enrolled"
        last = f"{m.last_login_at:%Y-%m-%d %H:%M}" if m.last_login_at else "never"
        table.add_row(m.id, m.email, m.name, ", ".join(m.roles), status, totp, last)
    console.print(table)


@staff_cli.command("unlock")
def staff_unlock(email_or_id: str) -> None:
    """Lift a lockout after too many failed sign-ins."""
    from mercato.services.customers.staff.service import unlock

    member = _staff_member(email_or_id)(unlock)
    console.print(f"[green]✓[/] {member.email} unlocked")


@staff_cli.command("reset-mfa")
def staff_reset_mfa(email_or_id: str) -> None:
    """For a lost phone: forget the authenticator and recovery codes; the next sign-in enrols anew."""
    from mercato.services.customers.staff.service import reset_mfa

    member = _staff_member(email_or_id)(reset_mfa)
    console.print(
        f"[green]✓[/] {member.email}: second factor reset, sessions ended; they enrol at next sign-in"
    )


@staff_cli.command("reset-password")
def staff_reset_password(email_or_id: str) -> None:
    """For a forgotten password: a temporary one, printed once, replaced at the next sign-in."""
    from mercato.services.customers.staff.service import reset_password

    result = _staff_member(email_or_id)(reset_password, with_realm=True)
    console.print(f"[green]✓[/] temporary password: [bold]{result.temporary_password}[/]  (shown once)")


def _seed_initial_admin() -> tuple[str, str] | None:
    """Development: with no staff yet, create an admin; the row `mercato up` prints about it."""
    from mercato.services.customers.staff.service import ensure_initial_admin

    settings = _settings("customers")
    if settings.environment != "development":
        return None
    created = _staff_unit_of_work(ensure_initial_admin)
    if created is None:
        email = settings.staff_initial_admin_email
        return ("staff sign-in (password lost? mercato staff reset-password)", email)
    email, password = created
    return (
        "staff sign-in: one-time password (at first sign-in, choose your own and enrol TOTP in an "
        "authenticator app)",
        f"{email}\n{password}",
    )


def main() -> None:
    os.environ.setdefault("MERCATO_VAR_DIR", str(var_dir()))
    app()
