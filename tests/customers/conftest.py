from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mercato.services.customers.main import build_app
from mercato.services.customers.settings import CustomersSettings


@pytest.fixture
async def customers(databases, backend, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The customers app in-process on a real, freshly migrated database."""
    settings = CustomersSettings(
        environment="test",
        database_url=await databases.fresh("customers", backend),
        signing_key_file=tmp_path / "customers.pem",
        cursor_secret="test-cursor-secret",
        argon2_time_cost=2,
        argon2_memory_kib=19456,  # OWASP's argon2id minimum; keeps the suite quick
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://customers") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
