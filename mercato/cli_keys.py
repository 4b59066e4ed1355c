"""`mercato keys …`: the data keys that encrypt personal data (docs/security.md) — status, rotation and
re-encryption, without downtime: the running services read a key file again when it changes, and every
listed key keeps decrypting until nothing uses it."""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# The services that keep personal data, by the module of their models.
PERSONAL_DATA = {
    "customers": "mercato.services.customers.models",
    "orders": "mercato.services.orders.models",
    "notifications": "mercato.services.notifications.models",
    "payments": "mercato.services.payments.giftcards.models",  # gift cards' codes
}

keys_cli = typer.Typer(help="Data keys: encryption of personal data at rest.", no_args_is_help=True)
console = Console()
Services = Annotated[list[str] | None, typer.Argument(help="Default: every service with personal data.")]


def _services(services: list[str] | None) -> list[str]:
    chosen = services or list(PERSONAL_DATA)
    unknown = [s for s in chosen if s not in PERSONAL_DATA]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: keeps no personal data ({', '.join(PERSONAL_DATA)} do)"
        )
    return chosen


def _metadata(service: str) -> list:
    from mercato.platform.tables import platform_metadata

    return [importlib.import_module(PERSONAL_DATA[service]).Base.metadata, platform_metadata]


def _database(service: str):
    from mercato.cli import _settings
    from mercato.platform.db import Database

    settings = _settings(service)
    return settings, Database(settings.database_url, keys=settings.keys())


def _add_key(path: Path) -> str:
    """Put a new key first in the key file: it encrypts from now on."""
    from mercato.platform.crypto import new_key

    entry = new_key()
    _write(path, entry + "\n" + path.read_text())
    return entry.split(":", 1)[0]


def _retire(path: Path, used: set[str]) -> list[str]:
    """Drop from the key file every key but the newest that no stored value uses any more."""
    kept, dropped, newest = [], [], None
    for line in path.read_text().splitlines():
        key_id = line.split("#", 1)[0].strip().partition(":")[0]
        newest = newest or key_id
        if key_id and key_id != newest and key_id not in used:
            dropped.append(key_id)
        elif line.strip():
            kept.append(line)
    _write(path, "\n".join(kept) + "\n")
    return dropped


def _write(path: Path, text: str) -> None:
    """Atomically (a running service never reads half a file), readable by its owner only."""
    temporary = path.with_suffix(path.suffix + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    temporary.replace(path)


async def _reencrypt(service: str, progress: Progress) -> dict[str, int]:
    from mercato.platform.keyrotation import reencrypt_database

    _, db = _database(service)

    def on_table(table: str, rows: int):
        task = progress.add_task(f"{service}: {table}", total=rows)
        return lambda n: progress.advance(task, n)

    try:
        return await reencrypt_database(db, _metadata(service), on_table=on_table)
    finally:
        await db.dispose()


async def _usage(service: str):
    from mercato.platform.keyrotation import key_usage

    settings, db = _database(service)
    try:
        return settings, db.keys, await key_usage(db, _metadata(service))
    finally:
        await db.dispose()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@keys_cli.command("status")
def status(services: Services = None) -> None:
    """Each service's keys (the first encrypts) and how many stored values each one protects."""
    table = Table("service", "key", "role", "values")
    for service in _services(services):
        _, keys, usage = asyncio.run(_usage(service))
        for index, key_id in enumerate(keys.keyring.key_ids):
            table.add_row(
                service, key_id, "encrypts" if index == 0 else "decrypts", str(usage.pop(key_id, 0))
            )
        for key_id, count in usage.items():
            table.add_row(
                service, key_id, "[red]missing[/]" if key_id != "clear" else "[red]in clear[/]", str(count)
            )
    console.print(table)


@keys_cli.command("reencrypt")
def reencrypt(services: Services = None) -> None:
    """Rewrite every value not yet under the newest key (after a key was added to the environment)."""
    with _progress() as progress:
        for service in _services(services):
            done = asyncio.run(_reencrypt(service, progress))
            progress.console.print(f"[green]✓[/] {service}: {sum(done.values())} rows re-encrypted")


@keys_cli.command("rotate")
def rotate(
    services: Services = None,
    retire: Annotated[bool, typer.Option(help="Then drop the old keys that no value uses any more.")] = False,
) -> None:
    """A new key for each service's key file, then every row re-encrypted under it (with progress). The
    running services pick the new key up by themselves; the old one still decrypts until retired."""
    with _progress() as progress:
        for service in _services(services):
            settings, _ = _database(service)
            if settings.data_keys is not None or settings.data_key_file is None:
                progress.console.print(
                    f"[yellow]•[/] {service}: its keys come from MERCATO_{service.upper()}_DATA_KEYS — put a "
                    "new key (`mercato keys new`) first there, roll it out, then `mercato keys reencrypt`"
                )
                continue
            key_id = _add_key(settings.data_key_file)
            progress.console.print(f"[green]✓[/] {service}: new key {key_id} encrypts from now on")
            done = asyncio.run(_reencrypt(service, progress))
            progress.console.print(
                f"[green]✓[/] {service}: {sum(done.values())} rows re-encrypted under {key_id}"
            )
            if retire:
                _, _, usage = asyncio.run(_usage(service))
                dropped = _retire(settings.data_key_file, set(usage))
                progress.console.print(f"[green]✓[/] {service}: retired {', '.join(dropped) or 'no key'}")


@keys_cli.command("new")
def new() -> None:
    """Print a new key entry (`<id>:<key>`) for MERCATO_<SERVICE>_DATA_KEYS or a key file."""
    from mercato.platform.crypto import new_key

    typer.echo(new_key())
