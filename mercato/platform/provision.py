"""One PostgreSQL database and one login role per service, the role reaching only its own database.

What `mercato deploy databases` (and `mercato up --profile scale-out`) does with an administrator's
connection, idempotently: for each service, the role `<prefix>_<service>` (LOGIN, its password), the
database `<prefix>_<service>` owned by it, `CONNECT` revoked from PUBLIC — so no other role but a
superuser can even connect — and every table, view, sequence and enum type in its `public` schema
handed over to the role (a database first migrated by the administrator then belongs to the service).
The service then migrates and runs as its own role; a service's leaked password opens one database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from mercato.topology import Topology, var_dir

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_URL_ENV = "MERCATO_POSTGRES_ADMIN_URL"

# Everything in `public` the role must own to migrate it: tables, views, free-standing sequences (those
# of an identity or serial column follow their table), enum types.
_HAND_OVER = """
SELECT format('ALTER %s public.%I OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.relname, $1::text)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND pg_get_userbyid(c.relowner) <> $1
  AND NOT (c.relkind = 'S' AND EXISTS (
      SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER TYPE public.%I OWNER TO %I', t.typname, $1::text)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' AND t.typtype = 'e' AND pg_get_userbyid(t.typowner) <> $1
"""


@dataclass(frozen=True)
class ServiceDatabase:
    service: str
    database: str
    role: str
    password: str

    def url(self, admin_url: str, *, host: str | None = None, port: int | None = None) -> str:
        """The service's SQLAlchemy URL: its role on its database, at the administrator's server (or at
        `host`/`port`, as the service sees the server)."""
        admin = make_url(admin_url)
        return URL.create(
            "postgresql+asyncpg",
            username=self.role,
            password=self.password,
            host=host or admin.host,
            port=port or admin.port,
            database=self.database,
        ).render_as_string(hide_password=False)


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """A libpq-style DSN for asyncpg from a SQLAlchemy or plain URL (optionally on another database)."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _execute(connection: asyncpg.Connection, template: str, *names: str) -> None:
    """Run DDL with identifiers and literals quoted by the server's own `format()`."""
    statement = await connection.fetchval(f"SELECT format('{template}', {_args(names)})", *names)
    await connection.execute(statement)


def _args(names: tuple[str, ...]) -> str:
    return ", ".join(f"${i}::text" for i in range(1, len(names) + 1))


async def provision(admin_url: str, target: ServiceDatabase) -> None:
    """Create or bring up to date the role and database of one service (safe to run again)."""
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        if await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", target.role):
            await _execute(admin, "ALTER ROLE %I LOGIN PASSWORD %L", target.role, target.password)
        else:
            await _execute(admin, "CREATE ROLE %I LOGIN PASSWORD %L", target.role, target.password)
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database):
            await _execute(admin, "ALTER DATABASE %I OWNER TO %I", target.database, target.role)
        else:
            await _execute(admin, "CREATE DATABASE %I OWNER %I", target.database, target.role)
        await _execute(admin, "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC", target.database)
    finally:
        await admin.close()
    inside = await asyncpg.connect(asyncpg_dsn(admin_url, target.database))
    try:
        await _execute(inside, "ALTER SCHEMA public OWNER TO %I", target.role)
        await inside.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for (statement,) in await inside.fetch(_HAND_OVER, target.role):
            await inside.execute(statement)
    finally:
        await inside.close()


async def drop(admin_url: str, target: ServiceDatabase) -> None:
    """Remove a service's database and role (tests clean up with it)."""
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await _execute(admin, "DROP DATABASE IF EXISTS %I WITH (FORCE)", target.database)
        await _execute(admin, "DROP ROLE IF EXISTS %I", target.role)
    finally:
        await admin.close()


def admin_url_from_env() -> str:
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)


def default_secrets_dir() -> Path:
    return var_dir() / "keys" / "postgres"


def database_services() -> list[str]:
    return list(Topology().services)


def service_databases(prefix: str, secrets_dir: Path, services: list[str]) -> list[ServiceDatabase]:
    """Each service's database and role, with its password (kept in `secrets_dir`, made on first use)."""
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    targets = []
    for service in services:
        name = f"{prefix}_{service}"
        path = secrets_dir / f"{name}.password"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        targets.append(ServiceDatabase(service, name, name, path.read_text().strip()))
    return targets


def provision_all(
    admin_url: str, prefix: str, secrets_dir: Path, *, host: str | None = None, port: int | None = None
) -> dict[str, str]:
    """Provision every service's database and role; returns `MERCATO_<SVC>_DATABASE_URL` → its URL."""
    urls = {}
    for target in service_databases(prefix, secrets_dir, database_services()):
        asyncio.run(provision(admin_url, target))
        urls[f"MERCATO_{target.service.upper()}_DATABASE_URL"] = target.url(admin_url, host=host, port=port)
    return urls
