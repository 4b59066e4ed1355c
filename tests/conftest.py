"""Database plumbing shared by every service's tests, and nothing else.

Each test gets its own freshly migrated database: SQLite always, and PostgreSQL too when
MERCATO_TEST_DATABASE_URL points at a server (CI sets it). Migrations run once per service and backend
into a template; tests get a copy (a file copy, or CREATE DATABASE ... TEMPLATE), which keeps the
real migrations under test without paying for them in every test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from mercato.platform.migrations import upgrade

pytest_plugins = ["tests.platforms"]  # the real platform, for tests/e2e and tests/browser

# In-process service tests run without a broker; tests that need one start a real NATS themselves,
# and the end-to-end platform turns it back on for its processes.
os.environ.setdefault("MERCATO_BROKER_ENABLED", "false")

PG_URL = os.environ.get("MERCATO_TEST_DATABASE_URL")  # e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def _pg_dsn(database: str) -> str:
    url = make_url(PG_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def _pg_sqlalchemy_url(database: str) -> str:
    return (
        make_url(PG_URL)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(_pg_dsn(make_url(PG_URL).database or "postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class DatabaseFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[tuple[str, str], str] = {}
        self.created_pg: list[str] = []
        self.created_roles: list[str] = []
        self.run = uuid.uuid4().hex[:8]

    async def _template(self, service: str, backend: str) -> str:
        if (service, backend) not in self.templates:
            if backend == "sqlite":
                path = self.root / f"template-{service}.db"
                await asyncio.to_thread(upgrade, service, f"sqlite+aiosqlite:///{path}")
                self.templates[(service, backend)] = str(path)
            else:
                name = f"mtpl_{service}_{self.run}"
                await _pg_admin(f'CREATE DATABASE "{name}"')
                self.created_pg.append(name)
                await asyncio.to_thread(upgrade, service, _pg_sqlalchemy_url(name))
                self.templates[(service, backend)] = name
        return self.templates[(service, backend)]

    async def fresh(self, service: str, backend: str) -> str:
        """A new, migrated, empty database for `service`; returns its SQLAlchemy URL."""
        template = await self._template(service, backend)
        if backend == "sqlite":
            path = self.root / f"{service}-{uuid.uuid4().hex[:10]}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"mtest_{service}_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created_pg.append(name)
        return _pg_sqlalchemy_url(name)

    async def empty(self, service: str, backend: str) -> str:
        """A new database with no tables at all (for a test that migrates it step by step)."""
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.root / f'{service}-empty-{uuid.uuid4().hex[:10]}.db'}"
        name = f"mtest_{service}_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        self.created_pg.append(name)
        return _pg_sqlalchemy_url(name)

    async def own_role(self, service: str, url: str) -> str:
        """Hand the PostgreSQL database at `url` to a new login role of its own, which reaches only that
        database (as `mercato deploy databases` sets up a service); returns the URL as that role."""
        from mercato.platform.provision import ServiceDatabase, provision

        database = make_url(url).database
        assert database
        target = ServiceDatabase(service, database, role=database, password=uuid.uuid4().hex)
        self.created_roles.append(database)
        await provision(PG_URL, target)
        return target.url(PG_URL)

    async def drop_all(self) -> None:
        for name in reversed(self.created_pg):
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for name in self.created_roles:
            await _pg_admin(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    if PG_URL:
        await factory.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over every database backend available to this run."""
    return request.param
