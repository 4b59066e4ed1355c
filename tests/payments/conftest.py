from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mercato.services.payments.main import build_app
from mercato.services.payments.settings import PaymentsSettings
from mercato.topology import Topology

SANDBOX_TOPOLOGY = Topology(offset=16000)  # port 24110: below the ephemeral range


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Iterator[str]:
    """The payment provider sandbox as a real process (the Stripe SDK speaks HTTP to it)."""
    env = os.environ | {
        "MERCATO_PORT_OFFSET": str(SANDBOX_TOPOLOGY.offset),
        "MERCATO_PAYMENT_SANDBOX_STATE_FILE": str(tmp_path_factory.mktemp("sandbox") / "payments.db"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mercato.sandbox.payments"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = SANDBOX_TOPOLOGY.payment_sandbox_url
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def payments(databases, backend, sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """The payments app in-process on a real database, calling the sandbox through the real SDK."""
    app = build_app(
        PaymentsSettings(
            environment="test",
            database_url=await databases.fresh("payments", backend),
            stripe_api_base=sandbox,
            provider_timeout_seconds=2,
            cursor_secret="s",
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://payments") as client,
    ):
        client.sandbox = sandbox  # type: ignore[attr-defined]
        client.app = app  # type: ignore[attr-defined]
        yield client
