"""Async SQLAlchemy 2 engines and the unit of work: the one place where a transaction commits.

SQLite (embedded profile) and PostgreSQL (scale-out profile) run the same code. SQLite needs two
things to be correct under concurrency:

* Writes start with `BEGIN IMMEDIATE` on a single writer connection. A deferred transaction that
  reads and then writes can fail with SQLITE_BUSY when two of them try to upgrade their locks at once;
  taking the write lock up front and queueing writers in-process avoids both that and the busy-wait
  back-off of SQLite's own lock retries.
* Reads use a separate pool of connections in WAL mode, so they never wait for the writer.
* A read that is one statement (`read_one`) runs outside a transaction: a single SELECT sees one
  consistent state by itself, and skipping BEGIN and ROLLBACK saves two round trips to the driver's
  thread — most of the cost of a primary-key read.

PostgreSQL uses one pool for both; its row locks and READ COMMITTED re-checks make the conditional
updates used for stock reservations safe.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from mercato.platform import tracing
from mercato.platform.crypto import DataKeys, bind_keys
from mercato.platform.errors import Problem

# An execution option of `Database.read_one`'s connections: no BEGIN on SQLite (see `_on_begin`).
SINGLE_STATEMENT = "mercato_single_statement"
# Another: statements that are not the service's work (what /metrics reads) are not counted.
UNCOUNTED = "mercato_uncounted"


def _sqlite_engine(url: str, *, begin: str, pool_size: int, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=60, pool_pre_ping=False
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver, so we choose its kind (the SQLAlchemy aiosqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "busy_timeout=10000",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "cache_size=-16000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(SINGLE_STATEMENT):
            connection.exec_driver_sql(begin)

    return engine


def after_commit(session: AsyncSession, callback: Callable[[], Any]) -> None:
    """Run `callback` once the unit of work of `session` has committed (never if it rolls back):
    for effects outside the database, such as waking a dispatcher."""
    session.info.setdefault("after_commit", []).append(callback)


def insert_or_merge(session: AsyncSession, target: Any) -> Any:
    """An INSERT that accepts ON CONFLICT clauses, in the session's dialect (SQLite or PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


_TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def values_of(entity: Any, *, except_none: bool = False) -> dict[str, Any]:
    """An ORM entity's column values, for a Core INSERT (several rows in one statement, or with an ON
    CONFLICT clause). A primary key still None is left out (the database generates it). `except_none`:
    every None is left to the database (NULL, or the column's default) as the ORM would; rows inserted
    together must leave out the same columns."""
    return {
        column.key: value
        for column in entity.__table__.columns
        if (value := getattr(entity, column.key)) is not None or not (except_none or column.primary_key)
    }


def _application_name() -> str:
    return f"{os.environ.get('MERCATO_PROCESS_NAME', 'mercato')} {os.getpid()}"[:63]


class Database:
    """One service's database: a writer for units of work, readers for queries."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, keys: DataKeys | None = None
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
                # WAL is a property of the file: set it once, before the pools' first connections
                # would race to set it (the loser gets "database is locked").
                # (If the file can't be opened, readiness will say so; the constructor does not fail.)
                with (
                    contextlib.suppress(sqlite3.Error),
                    contextlib.closing(sqlite3.connect(self.url.database, timeout=10)) as connection,
                ):
                    connection.execute("PRAGMA journal_mode=WAL")
            self.writer = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1, echo=echo)
            self.reader = _sqlite_engine(url, begin="BEGIN", pool_size=pool_size, echo=echo)
        else:
            self.writer = self.reader = create_async_engine(
                url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                # Which process a connection is (pg_stat_activity, pg_locks): `orders-2 4711`.
                connect_args={"server_settings": {"application_name": _application_name()}},
            )
        # The service's data keys: its `Encrypted` columns use them (mercato/platform/crypto.py).
        self.keys = keys
        for engine in {self.writer, self.reader}:
            bind_keys(engine, keys)
        # For /metrics and the benchmarks' "statements per checkout": the statements that read or write
        # data, and the transactions they ran in. (Transaction control is counted as transactions on
        # both databases: SQLite's BEGIN goes through a cursor here, PostgreSQL's through the driver.)
        self.statements = 0
        self.transactions = 0
        for engine in {self.writer, self.reader}:
            event.listen(engine.sync_engine, "before_cursor_execute", self._count_statement)
            event.listen(engine.sync_engine, "begin", self._count_transaction)
            tracing.trace_statements(engine.sync_engine, "sqlite" if self.is_sqlite else "postgresql")
        self.on_outbox_commit: Callable[[], Any] | None = None  # set by the relay, to wake it
        self._writes = async_sessionmaker(self.writer, expire_on_commit=False, autoflush=False)
        self._reads = async_sessionmaker(self.reader, expire_on_commit=False, autoflush=False)

    def _count_statement(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(_TRANSACTION_CONTROL) or connection.get_execution_options().get(UNCOUNTED):
            return
        self.statements += 1

    def _count_transaction(self, connection: Any) -> None:
        if not connection.get_execution_options().get(SINGLE_STATEMENT):  # read_one: none begun
            self.transactions += 1

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: commits if the block succeeds, rolls back if it raises."""
        async with self._writes() as session:
            try:
                yield session
            except Problem as problem:
                # A refusal that must still be recorded (e.g. revoking a token family on reuse).
                await (session.commit() if problem.keep_changes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
                if session.info.pop("outbox", False) and self.on_outbox_commit:
                    self.on_outbox_commit()
                for callback in session.info.pop("after_commit", ()):
                    callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; never commits. Objects read stay usable after the block (closing
        ends the transaction without expiring them, unlike a rollback)."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def read_one(self, *, counted: bool = True) -> AsyncIterator[AsyncConnection]:
        """A reader connection for a read that is ONE statement, outside any transaction (see the
        module docstring): Core only, no ORM session. On SQLite the connections are in the driver's
        autocommit mode already, so only our BEGIN is left out (changing the isolation level would cost
        a round trip to the driver's thread, and another to restore it); PostgreSQL runs it AUTOCOMMIT.
        Not `counted`: left out of `statements` (for reads about the service, not its work)."""
        options: dict[str, Any] = {SINGLE_STATEMENT: True, UNCOUNTED: not counted}
        if not self.is_sqlite:
            options["isolation_level"] = "AUTOCOMMIT"
        async with self.reader.connect() as connection:
            yield await connection.execution_options(**options)

    async def ping(self) -> None:
        async with self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
