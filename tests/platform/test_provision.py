"""`mercato deploy databases`: each service's role reaches its own database and no other's, on a real
PostgreSQL (MERCATO_TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from mercato.platform.provision import ServiceDatabase, asyncpg_dsn, drop, provision
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (MERCATO_TEST_DATABASE_URL)")


@pytest.fixture
async def two_services():
    run = uuid.uuid4().hex[:8]
    orders, catalog = (
        ServiceDatabase(service, f"mprov_{service}_{run}", f"mprov_{service}_{run}", uuid.uuid4().hex)
        for service in ("orders", "catalog")
    )
    yield orders, catalog
    for target in (orders, catalog):
        await drop(PG_URL, target)


async def test_each_role_reaches_only_its_own_database(two_services):
    orders, catalog = two_services
    for target in (orders, catalog):
        await provision(PG_URL, target)
        await provision(PG_URL, target)  # again: nothing changes, nothing fails

    own = await asyncpg.connect(asyncpg_dsn(orders.url(PG_URL)))
    try:
        await own.execute("CREATE TABLE orders_own (id int)")  # it owns its schema: it can migrate
    finally:
        await own.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(asyncpg_dsn(orders.url(PG_URL), catalog.database))


async def test_a_database_the_administrator_migrated_is_handed_over(two_services):
    orders, _ = two_services
    admin = await asyncpg.connect(asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{orders.database}"')
    finally:
        await admin.close()
    inside = await asyncpg.connect(asyncpg_dsn(PG_URL, orders.database))
    try:
        await inside.execute("CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY, note text)")
    finally:
        await inside.close()

    await provision(PG_URL, orders)

    own = await asyncpg.connect(asyncpg_dsn(orders.url(PG_URL)))
    try:
        await own.execute("ALTER TABLE orders ADD COLUMN placed boolean")  # only an owner may
        await own.execute("INSERT INTO orders (note) VALUES ('x')")
    finally:
        await own.close()
