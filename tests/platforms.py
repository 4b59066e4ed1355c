"""The real platform, as `make up` runs it: `mercato up` in a subprocess — Envoy and every service as
its own process — on its own ports and state directory, on each database backend of this run.

A pytest plugin (registered in tests/conftest.py), so the end-to-end tests (tests/e2e) and the browser
tests (tests/browser) share one platform per backend."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.topology import Topology
from tests.conftest import BACKENDS

# Every fixed test port stays below 32768, where the kernel never hands out ephemeral client ports.
# Offsets in use: 14000 gateway, 15000/15010 sandbox, 16000 payments, 17000/17100 mail/SMS sandboxes,
# 20000/21000 here, 22000/23000 the event platforms (tests/e2e/events.py), 11000 the storefront with
# search stopped (tests/browser/test_search_down.py), 12000 the contract tests' platform (tests/contract),
# 13000/13500 the encryption test's (tests/e2e/test_encryption.py), 24000-24999 the platform in
# containers (tests/deploy/test_images.py: host ports 24080, 24110, 24126, 24901), 5600 the replicas
# under failure (tests/e2e/test_replicas.py, with its NATS cluster's 9922-9924, 11922-11924 and
# 13922-13924), 6800 the one-replica benchmark of docs/performance.md, 6000 the scraped platform
# (tests/e2e/test_prometheus.py; Prometheus on 15090) and 6400 the traced platform (tests/e2e/test_traces.py).
# A new offset must keep every port of its topology (replicas and the NATS cluster included) clear of
# these and below 32768.
PORT_OFFSETS = {"sqlite": 20000, "postgresql": 21000}


def staff_headers(*roles: str) -> dict[str, str]:
    """What the gateway forwards for a signed-in staff member with MFA: for test set-up that calls a
    service on its private port (the gateway's admin door has its own tests)."""
    claims = {"sub": "stf_00000000000000000000000000", "roles": list(roles or ("admin",)), "mfa": True}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {STAFF_CLAIMS_HEADER: encoded}


@dataclass
class Platform:
    topology: Topology
    var_dir: Path
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.topology.gateway_url

    def service_url(self, name: str) -> str:
        return self.topology.service(name).url

    @property
    def sandbox(self) -> str:
        return self.topology.payment_sandbox_url

    def token_for(self, customer_id: str) -> dict[str, str]:
        """A valid shopper token for any customer id, signed with the platform's own key (as customers
        would sign it): lets load tests skip a hundred argon2 sign-ins."""
        key = serialization.load_pem_private_key(
            (self.var_dir / "keys" / "customers-ed25519.pem").read_bytes(), password=None
        )
        kid = httpx.get(f"{self.gateway}/.well-known/jwks.json").json()["keys"][0]["kid"]
        now = int(time.time())
        claims = {
            "iss": "mercato-customers",
            "aud": "mercato-shop",
            "sub": customer_id,
            "iat": now,
            "exp": now + 600,
        }
        return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='EdDSA', headers={'kid': kid})}"}

    def staff_headers(self, *roles: str) -> dict[str, str]:
        return staff_headers(*roles)

    def available(self, sku: str) -> int:
        variants = httpx.get(f"{self.service_url('catalog')}/internal/variants", params={"sku": sku}).json()
        return variants["variants"][0]["available"]

    def set_stock(self, sku: str, stock: int) -> None:
        """Make exactly `stock` units of `sku` available, as a merchandiser's stock count would."""
        available = self.available(sku)
        if available != stock:
            adjusted = httpx.post(
                f"{self.service_url('catalog')}/admin/v1/inventory/{sku}/adjustments",
                json={"delta": stock - available, "reason": "count"},
                headers=self.staff_headers("merchandising") | {"Idempotency-Key": uuid.uuid4().hex},
            )
            assert adjusted.status_code in (200, 201), adjusted.text

    def card(self, number: str = "4242424242424242") -> str:
        """Tokenise a test card directly at the provider, as the browser does: Mercato never sees it."""
        response = httpx.post(
            f"{self.sandbox}/v1/payment_methods",
            headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["id"]


def _wait_until_serving(platform: Platform, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if platform.process.poll() is not None:
            raise RuntimeError(f"mercato up exited early:\n{platform.log.read_text()[-4000:]}")
        try:
            products = httpx.get(f"{platform.gateway}/api/v1/products", timeout=1)
            if products.status_code == 200 and "Mercato is running" in platform.log.read_text():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the platform did not come up:\n{platform.log.read_text()[-4000:]}")


def platform_env(var_dir: Path, topology: Topology) -> dict[str, str]:
    return os.environ | {
        "MERCATO_VAR_DIR": str(var_dir),
        "MERCATO_PORT_OFFSET": str(topology.offset),
        "MERCATO_GATEWAY_ACCESS_LOG": "false",
        "MERCATO_BROKER_ENABLED": "true",
        # Tests change stock and prices and look at once, as one shopper; the gateway may keep a product
        # page or a search a second or two for everyone (the documented bound), which
        # tests/e2e/test_browsing.py tests. Here the gateway asks again at every use (no-cache).
        "MERCATO_CATALOG_BROWSE_MAX_AGE_SECONDS": "0",
        "MERCATO_SEARCH_RESULTS_MAX_AGE_SECONDS": "0",
        "MERCATO_MOBILE_API_PUBLIC_MAX_AGE_SECONDS": "0",
        # Short enough for tests to see timeouts and recovery quickly:
        "MERCATO_PAYMENTS_PROVIDER_TIMEOUT_SECONDS": "2",
        "MERCATO_ORDERS_RECONCILE_AFTER_SECONDS": "3",
        "MERCATO_ORDERS_RECONCILE_EVERY_SECONDS": "0.5",
        "MERCATO_ORDERS_CRASH_HOOK_FILE": str(var_dir / "crash-orders-after-capture"),
        "MERCATO_RELAY_CRASH_HOOK_FILE": str(var_dir / "crash-relay-mid-batch-{service}"),
    }


def start_platform(var_dir: Path, topology: Topology, env: dict[str, str], *args: str) -> Platform:
    log = var_dir / "mercato-up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mercato", "up", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    platform = Platform(topology=topology, var_dir=var_dir, process=process, log=log, env=env)
    try:
        _wait_until_serving(platform)
    except BaseException:
        stop_platform(platform)
        raise
    return platform


def launch(
    backend: str, var_dir: Path, topology: Topology, databases, *args: str, env: dict[str, str] | None = None
) -> Platform:
    """A platform on `backend`: SQLite files under `var_dir`, or fresh PostgreSQL databases, each owned by
    its service's own role that reaches no other (as in production). `args` go to `mercato up`."""
    env = platform_env(var_dir, topology) | (env or {})
    if backend == "postgresql":
        import asyncio

        for service in topology.services:
            url = asyncio.run(databases.fresh(service, backend))
            env[f"MERCATO_{service.upper()}_DATABASE_URL"] = asyncio.run(databases.own_role(service, url))
    return start_platform(var_dir, topology, env, *args)


def stop_platform(platform: Platform) -> None:
    platform.process.send_signal(signal.SIGINT)  # what Ctrl-C does
    try:
        platform.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(platform.process.pid, signal.SIGKILL)
        platform.process.wait()


@pytest.fixture(scope="session", params=BACKENDS)
def platform(request, tmp_path_factory, databases) -> Iterator[Platform]:
    backend = request.param
    var_dir = tmp_path_factory.mktemp(f"platform-{backend}")
    platform = launch(backend, var_dir, Topology(offset=PORT_OFFSETS[backend]), databases)
    try:
        yield platform
    finally:
        stop_platform(platform)


@pytest.fixture
def gateway(platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway, timeout=10) as client:
        yield client
