from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import uvicorn

from mercato.platform.migrations import upgrade
from mercato.services.customers.main import build_app
from mercato.services.customers.settings import CustomersSettings
from mercato.services.notifications.main import build_app as build_notifications
from mercato.services.notifications.settings import NotificationsSettings
from mercato.topology import HOST, Topology

NOTIFICATIONS_PORT = Topology(offset=17600).service("notifications").port  # clear of other tests' ports

StartCustomers = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def notifications_url(tmp_path_factory) -> Iterator[str]:
    """The real notifications service, served over HTTP (uvicorn, in a thread) on its own SQLite file:
    customers asks it for a customer's devices and messages when they export their data."""
    root = tmp_path_factory.mktemp("notifications-for-customers")
    database_url = f"sqlite+aiosqlite:///{root / 'notifications.db'}"
    upgrade("notifications", database_url)
    settings = NotificationsSettings(
        environment="test",
        database_url=database_url,
        cursor_secret="test-cursor-secret",
        data_key_file=root / "notifications-data.keys",
        port=NOTIFICATIONS_PORT,
    )
    server = uvicorn.Server(
        uvicorn.Config(build_notifications(settings), host=HOST, port=NOTIFICATIONS_PORT, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "notifications did not start"
        time.sleep(0.02)
    yield f"http://{HOST}:{NOTIFICATIONS_PORT}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
async def start_customers(databases, backend, tmp_path, notifications_url) -> AsyncIterator[StartCustomers]:
    """Starts the customers app in-process on a real, freshly migrated database; keyword arguments
    override its settings (e.g. a short lockout)."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> httpx.AsyncClient:
            settings = CustomersSettings(
                **{
                    "environment": "test",
                    "database_url": await databases.fresh("customers", backend),
                    "signing_key_file": tmp_path / "customers.pem",
                    "staff_signing_key_file": tmp_path / "customers-staff.pem",
                    "staff_totp_key_file": tmp_path / "customers-staff-totp.key",
                    "data_key_file": tmp_path / "customers-data.keys",
                    "blind_index_key_file": tmp_path / "customers-blind-index.key",
                    "cursor_secret": "test-cursor-secret",
                    "notifications_url": notifications_url,
                    "argon2_time_cost": 2,
                    "argon2_memory_kib": 19456,  # OWASP's argon2id minimum; keeps the suite quick
                    **overrides,
                }
            )
            app = build_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://customers")
            )
            client.app = app  # type: ignore[attr-defined]
            return client

        yield start


@pytest.fixture
async def customers(start_customers: StartCustomers) -> httpx.AsyncClient:
    """The customers app in-process on a real, freshly migrated database."""
    return await start_customers()
