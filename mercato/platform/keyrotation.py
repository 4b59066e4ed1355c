"""Re-encryption: rewrite every encrypted value of a database under the newest data key.

Used by `mercato keys rotate` / `mercato keys reencrypt` (a rotation without downtime: the old key still
decrypts until every row is rewritten) and by the migrations that start encrypting a column (a value
stored in clear counts as "not under the newest key"). It runs in batches, one transaction each, by
primary key order, so a large table never holds a long lock, and can be interrupted and run again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, func, inspect, select, tuple_, type_coerce, update
from sqlalchemy.engine import Connection

from mercato.platform.crypto import (
    DataKeys,
    Encrypted,
    EncryptedBytes,
    EncryptedJSON,
    EncryptedText,
    bind_keys,
    is_ciphertext,
    keys_of,
    stored_key_id,
)
from mercato.platform.db import Database

ENCRYPTED_TYPES = (Encrypted, EncryptedText, EncryptedJSON, EncryptedBytes)
_TEXT_TYPES = (Encrypted, EncryptedText)

Derive = Callable[[dict[str, Any]], dict[str, Any]]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class EncryptedTable:
    table: Table
    columns: list[Column[Any]]

    @property
    def name(self) -> str:
        return self.table.name


def encrypted_tables(metadata: Iterable[MetaData]) -> list[EncryptedTable]:
    """Every table with encrypted columns, in the given metadata."""
    found = []
    for meta in metadata:
        for table in meta.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)]
            if columns:
                found.append(EncryptedTable(table, columns))
    return found


def _raw(column: Column[Any]) -> Any:
    return type_coerce(column, column.type.impl_instance).label(column.name)


def _plain(column: Column[Any], raw: Any, connection: Connection) -> Any:
    """The value in clear: decrypted, or as stored when it was stored in clear (before encryption)."""
    if raw is None:
        return None
    if isinstance(column.type, _TEXT_TYPES) and not is_ciphertext(raw):
        return raw
    return column.type.process_result_value(raw, connection.dialect)


def count_by_key(connection: Connection, target: EncryptedTable) -> Counter[str]:
    """How many values each key id protects (`clear` for values still stored in clear)."""
    counts: Counter[str] = Counter()
    for row in connection.execute(select(*(_raw(c) for c in target.columns))):
        for raw in row:
            if raw is not None:
                counts[stored_key_id(raw) or "clear"] += 1
    return counts


def rows_to_rewrite(connection: Connection, target: EncryptedTable) -> int:
    primary = keys_of(connection.dialect).keyring.primary
    total = 0
    for row in connection.execute(select(*(_raw(c) for c in target.columns))):
        if any(raw is not None and stored_key_id(raw) != primary for raw in row):
            total += 1
    return total


def reencrypt(
    connection: Connection,
    target: EncryptedTable,
    *,
    derive: Derive | None = None,
    batch: int = 200,
    progress: Progress | None = None,
    commit: bool = True,
) -> int:
    """Rewrite the rows of `target` that hold a value not under the newest key (or in clear); `derive`
    adds columns computed from the values in clear (a blind index). Returns how many rows it rewrote.
    With `commit`, each batch is its own transaction (not inside a migration's)."""
    keyring = keys_of(connection.dialect).keyring
    pk = list(target.table.primary_key.columns)
    last: tuple[Any, ...] | None = None
    rewritten = 0
    while True:
        query = select(*pk, *(_raw(c) for c in target.columns)).order_by(*pk).limit(batch)
        if last is not None:
            query = query.where(tuple_(*pk) > tuple_(*last)) if len(pk) > 1 else query.where(pk[0] > last[0])
        rows = connection.execute(query).all()
        if not rows:
            break
        primary = keyring.primary
        for row in rows:
            key = tuple(row[: len(pk)])
            raws = row[len(pk) :]
            if derive is None and all(r is None or stored_key_id(r) == primary for r in raws):
                continue
            values = {c.name: _plain(c, r, connection) for c, r in zip(target.columns, raws, strict=True)}
            if derive is not None:
                values.update(derive(values))
            condition = [c == v for c, v in zip(pk, key, strict=True)]
            # Only if no one changed the row meanwhile (then it was written under the newest key anyway).
            for column, raw in zip(target.columns, raws, strict=True):
                if isinstance(column.type, _TEXT_TYPES):
                    stored = type_coerce(column, column.type.impl_instance)
                    condition.append(stored.is_(None) if raw is None else stored == raw)
            connection.execute(update(target.table).where(*condition).values(values))
            rewritten += 1
        if commit:
            connection.commit()
        last = tuple(rows[-1][: len(pk)])
        if progress:
            progress(len(rows))
    return rewritten


def encrypt_in_migration(
    connection: Connection,
    targets: list[EncryptedTable],
    keys: Callable[[], DataKeys | None],
    *,
    derive: dict[str, Derive] | None = None,
) -> None:
    """The data step of a migration that starts encrypting columns: encrypt what is stored in clear.
    The keys come from the service's settings (as `mercato migrate` runs with them), and are loaded
    only when there is something to encrypt, so an empty database migrates without them."""
    present = inspect(connection)
    targets = [t for t in targets if present.has_table(t.name)]
    if not any(connection.execute(select(func.count()).select_from(t.table)).scalar() for t in targets):
        return
    bind_keys(connection, keys())
    for target in targets:
        reencrypt(connection, target, derive=(derive or {}).get(target.name), commit=False)


def kernel_tables(columns: tuple[str, ...] = ("envelope", "response_body")) -> list[EncryptedTable]:
    """The kernel's tables that hold encrypted values, limited to `columns` (a migration names those it
    starts encrypting; the default is the set of the migrations that introduced encryption)."""
    from mercato.platform.tables import platform_metadata

    found = []
    for target in encrypted_tables([platform_metadata]):
        chosen = [c for c in target.columns if c.name in columns]
        if chosen:
            found.append(EncryptedTable(target.table, chosen))
    return found


async def reencrypt_database(
    db: Database,
    metadata: list[MetaData],
    *,
    on_table: Callable[[str, int], Progress] | None = None,
) -> dict[str, int]:
    """Rewrite every encrypted value of `db` under its newest key, table by table; `on_table(name, rows)`
    returns the progress callback of that table. Returns the rows rewritten per table."""
    assert db.keys is not None, "this database has no data keys"
    db.keys.keyring.reload()
    done: dict[str, int] = {}
    for target in encrypted_tables(metadata):
        async with db.writer.connect() as connection:
            exists = await connection.run_sync(lambda c, name=target.name: inspect(c).has_table(name))
            if not exists:
                continue
            total = await connection.run_sync(
                lambda c, t=target: c.execute(select(func.count()).select_from(t.table)).scalar()
            )
            await connection.commit()
            progress = on_table(target.name, total or 0) if on_table else None
            done[target.name] = await connection.run_sync(
                lambda c, t=target, p=progress: reencrypt(c, t, progress=p)
            )
    return done


async def key_usage(db: Database, metadata: list[MetaData]) -> Counter[str]:
    """How many stored values each key id protects, over the whole database (`clear`: not encrypted)."""
    usage: Counter[str] = Counter()
    async with db.reader.connect() as connection:
        for target in encrypted_tables(metadata):
            if await connection.run_sync(lambda c, name=target.name: inspect(c).has_table(name)):
                usage.update(await connection.run_sync(lambda c, t=target: count_by_key(c, t)))
    return usage
