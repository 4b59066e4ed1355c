"""Replicas under failure: `mercato up --profile scale-out --replicas 2` (a PostgreSQL database and role
per service, a three-node NATS JetStream cluster, two processes of every service behind Envoy) while
shoppers buy without pause, and one replica of orders, then of catalog, then of payments, then one NATS
node is killed (SIGKILL: no goodbye). The supervisor restarts what was killed, as Kubernetes would; each
kill takes the replica holding its service's relay lease, so the lease has to move.

What shoppers and operators would notice is asserted: every checkout answered 201 has exactly one order,
one capture and one confirmation e-mail; every other one has no money taken; each lease moved to the
surviving replica; the consumers kept consuming; nothing was dead-lettered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from mercato.platform.provision import asyncpg_dsn
from mercato.platform.relay import ADVISORY_LOCK_KEY
from mercato.topology import Topology
from tests.conftest import PG_URL
from tests.platforms import launch, stop_platform

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL per service: set MERCATO_TEST_DATABASE_URL")

OFFSET = 5600  # ports 9922-15501 (replicas, NATS cluster): below the ephemeral range, clear of others
SHOPPERS = 4
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}
RETRY_FOR_SECONDS = 20.0  # a shopper retries an unanswered checkout (same Idempotency-Key) this long


@pytest.fixture(scope="module")
def scaled(tmp_path_factory, databases):
    var_dir = tmp_path_factory.mktemp("replicas")
    env = {
        # A killed consumer's unacknowledged deliveries go to the other replica after this.
        "MERCATO_BROKER_ACK_WAIT_SECONDS": "5",
        "MERCATO_BROKER_NAMESPACE": f"replicas{uuid.uuid4().hex[:6]}",
    }
    os.environ.pop("MERCATO_BROKER_URL", None)
    topology = Topology(offset=OFFSET, replicas=2)
    args = ("--profile", "scale-out", "--replicas", "2", "--without", "storefront")
    platform = launch("postgresql", var_dir, topology, databases, *args, "--without", "admin", env=env)
    try:
        yield platform
    finally:
        stop_platform(platform)


# --- the processes and who holds a relay lease ------------------------------------------------------


def process_pid(name: str) -> int:
    """The pid of the platform's process named `name` (its MERCATO_PROCESS_NAME)."""
    wanted = {f"MERCATO_PROCESS_NAME={name}".encode(), f"MERCATO_PORT_OFFSET={OFFSET}".encode()}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = set(open(f"/proc/{entry}/environ", "rb").read().split(b"\0"))  # noqa: SIM115
            except OSError:
                continue
            if wanted <= environ:
                return int(entry)
    raise LookupError(name)


def database_of(platform, service: str) -> str:
    return platform.env[f"MERCATO_{service.upper()}_DATABASE_URL"].rsplit("/", 1)[1]


async def _lease_holder(database: str) -> str | None:
    connection = await asyncpg.connect(asyncpg_dsn(PG_URL))
    try:
        return await connection.fetchval(
            """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1
                 AND l.classid = $2 AND l.objid = $3""",
            database,
            ADVISORY_LOCK_KEY >> 32,
            ADVISORY_LOCK_KEY & 0xFFFFFFFF,
        )
    finally:
        await connection.close()


def lease_holder(
    platform, service: str, timeout: float = 20.0, *, not_pid: int | None = None
) -> tuple[str, int]:
    """(replica name, pid) of the process relaying `service`'s outbox (its PostgreSQL application_name
    is `<name> <pid>`)."""
    deadline = time.monotonic() + timeout
    while True:
        holder = asyncio.run(_lease_holder(database_of(platform, service)))
        if holder:
            name, pid = holder.rsplit(" ", 1)
            if int(pid) != not_pid:
                return name, int(pid)
        assert time.monotonic() < deadline, f"nobody holds {service}'s relay lease"
        time.sleep(0.2)


async def _count(database: str, sql: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(PG_URL, database))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


# --- shoppers ---------------------------------------------------------------------------------------


@dataclass
class Shopper:
    email: str
    auth: dict[str, str]
    placed: dict[str, dict] = field(default_factory=dict)  # key → the 201's order
    failed: dict[str, tuple[int | str, dict]] = field(default_factory=dict)  # key → (last answer, body)


def register(gateway: httpx.Client, platform) -> Shopper:
    email = f"replica-{uuid.uuid4().hex[:10]}@example.com"
    created = gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Ada"}
    )
    assert created.status_code == 201, created.text
    return Shopper(email, platform.token_for(created.json()["id"]))


def attempt(gateway: httpx.Client, shopper: Shopper, key: str, body: dict) -> None:
    """Check out; a checkout that got no final answer (a replica died under it; 202, still pending) is
    asked again with the same Idempotency-Key, as a shopper's app does."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    answer: int | str = "no answer"
    while time.monotonic() < deadline:
        try:
            response = gateway.post(
                "/api/v1/checkout", json=body, headers=shopper.auth | {"Idempotency-Key": key}
            )
        except httpx.HTTPError as exc:
            answer = type(exc).__name__
        else:
            answer = response.status_code
            if answer == 201:
                shopper.placed[key] = response.json()
                shopper.failed.pop(key, None)
                return
            slug = response.json().get("slug") if answer == 409 else None
            if answer not in (202, 502, 503, 504) and slug != "checkout-in-progress":
                break
        time.sleep(0.5)
    shopper.failed[key] = (answer, body)


def buy_until(stop: threading.Event, platform, shopper: Shopper, sku: str) -> None:
    with httpx.Client(base_url=platform.gateway, timeout=15) as gateway:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=shopper.auth)
            body = {"shipping_address": ADDRESS, "payment_method": platform.card()}
            attempt(gateway, shopper, uuid.uuid4().hex, body)


def ask_again(platform, shopper: Shopper) -> None:
    """Once the reconciler had time to settle interrupted checkouts: each unanswered one asked again."""
    with httpx.Client(base_url=platform.gateway, timeout=15) as gateway:
        for key, (_, body) in list(shopper.failed.items()):
            attempt(gateway, shopper, key, body)


# --- what the provider and the mail sink saw ---------------------------------------------------------


def captures(platform) -> dict[str, int]:
    """order id → payment intents of it with money still taken (captured, not wholly refunded)."""
    taken: dict[str, int] = {}
    after = None
    with httpx.Client(base_url=platform.sandbox, headers=SANDBOX_KEY, timeout=15) as provider:
        while True:
            page = provider.get(
                "/v1/payment_intents", params={"limit": 100} | ({"starting_after": after} if after else {})
            ).json()
            for intent in page["data"]:
                if intent["status"] != "succeeded":
                    continue
                charge = provider.get(f"/v1/charges/{intent['latest_charge']}").json()
                if charge["amount_refunded"] < charge["amount_captured"]:
                    order = intent["metadata"]["order_id"]
                    taken[order] = taken.get(order, 0) + 1
            if not page["has_more"]:
                return taken
            after = page["data"][-1]["id"]


def confirmations(platform, email: str) -> list[str]:
    mails = httpx.get(
        f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "limit": 1000}
    )
    return [m["subject"] for m in mails.json()["data"] if "is confirmed" in m["subject"]]


def eventually(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        failure = check()
        if not failure:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {failure}")
        time.sleep(0.5)


# --- the test -----------------------------------------------------------------------------------------


def test_buying_goes_on_while_replicas_and_a_broker_node_die(scaled):
    platform = scaled
    with httpx.Client(base_url=platform.gateway, timeout=15) as gateway:
        sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
        platform.set_stock(sku, 100_000)
        shoppers = [register(gateway, platform) for _ in range(SHOPPERS)]

    stop = threading.Event()
    threads = [
        threading.Thread(target=buy_until, args=(stop, platform, s, sku), daemon=True) for s in shoppers
    ]
    for thread in threads:
        thread.start()
    moved: dict[str, tuple[str, str]] = {}
    killed_at: dict[str, float] = {}
    try:
        for service in ("orders", "catalog", "payments"):
            time.sleep(4)
            holder, pid = lease_holder(platform, service)
            killed_at[service] = time.time()
            os.kill(pid, signal.SIGKILL)
            moved[service] = (holder, lease_holder(platform, service, not_pid=pid)[0])
        time.sleep(4)
        os.kill(process_pid("broker-3"), signal.SIGKILL)
        time.sleep(8)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    time.sleep(4)  # the reconciler settles interrupted checkouts (MERCATO_ORDERS_RECONCILE_AFTER_SECONDS)
    for shopper in shoppers:
        ask_again(platform, shopper)
    placed = {order["id"]: (shopper, order) for shopper in shoppers for order in shopper.placed.values()}
    failed = [answer for shopper in shoppers for answer, _ in shopper.failed.values()]
    assert len(placed) >= 20, f"only {len(placed)} checkouts succeeded ({failed})"

    # Each lease went from the killed replica to the other one of its service.
    for service, (before, after) in moved.items():
        assert {before, after} == {f"{service}-1", f"{service}-2"}, (service, before, after)

    # Money: one capture per placed order, and none for any checkout that did not succeed (the reconciler
    # voided or refunded what an interrupted checkout had taken).
    def money() -> str | None:
        taken = captures(platform)
        wrong = {order: n for order, n in taken.items() if order not in placed or n != 1}
        missing = set(placed) - set(taken)
        return (
            f"captures not matching placed orders {wrong}, placed without capture {missing}"
            if wrong or missing
            else None
        )

    eventually(money, 30, "money")

    # One confirmation e-mail per placed order (through the relay, the NATS cluster, notifications).
    def mails() -> str | None:
        for shopper in shoppers:
            expected = sorted(f"Your order {o['number']} is confirmed" for o in shopper.placed.values())
            if sorted(confirmations(platform, shopper.email)) != expected:
                return f"{shopper.email}: {len(confirmations(platform, shopper.email))} of {len(expected)}"
        return None

    eventually(mails, 45, "confirmation e-mails")

    # Payments' consumer of OrderPlaced took every placed order, including those after its replica died.
    payments_db = database_of(platform, "payments")
    handled = "SELECT count(*) FROM inbox WHERE handler LIKE '%issue_bought_gift_cards%'"
    eventually(
        lambda: None if asyncio.run(_count(payments_db, handled)) == len(placed) else "not yet",
        30,
        "OrderPlaced consumed by payments",
    )
    since_kill = f"{handled} AND processed_at > to_timestamp({killed_at['payments'] + 2})"
    assert asyncio.run(_count(payments_db, since_kill)) > 0

    # Nothing dead-lettered anywhere.
    for service in ("catalog", "customers", "notifications", "orders", "payments", "search"):
        dead = httpx.get(f"{platform.service_url(service)}/internal/dead-letters", params={"status": "all"})
        assert dead.status_code == 200 and dead.json()["data"] == [], (service, dead.text[:500])
