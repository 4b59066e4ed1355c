from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from mercato.services.customers.main import build_app
from mercato.services.customers.settings import CustomersSettings

StartCustomers = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def start_customers(databases, backend, tmp_path) -> AsyncIterator[StartCustomers]:
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
