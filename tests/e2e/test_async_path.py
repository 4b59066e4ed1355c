"""The asynchronous path end to end, on NATS JetStream and on RabbitMQ: orders succeed whatever is down
after them, every customer gets each message exactly once when things recover, and search catches up.

The platform runs as `mercato up --without notifications --without search` against a broker the test
controls — a nats-server it starts and stops, or the machine's RabbitMQ behind a TCP proxy it can cut —
and the test runs the notifications and search processes itself, so it can stop and start them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from mercato.bench import metric_value
from mercato.cli import _all_subscriptions
from mercato.contracts.events import CustomerRegistered, OptIns
from mercato.platform.broker import EventPublisher
from mercato.platform.ids import new_id
from mercato.platform.messaging import OutboundEvent
from mercato.topology import Topology
from tests.e2e.test_checkout import ADDRESS, _sku_with_stock
from tests.platform.brokers import BROKERS, RABBITMQ_URL, NatsServer, TcpProxy, clean_rabbitmq, settings_for
from tests.platforms import Platform, platform_env, start_platform, stop_platform

PORT_OFFSETS = {"nats": 22000, "rabbitmq": 23000}


@dataclass
class EventPlatform:
    platform: Platform
    kind: str
    nats: NatsServer | None
    proxy: TcpProxy | None
    own: dict[str, subprocess.Popen] = field(default_factory=dict)  # processes the test runs itself

    @property
    def topology(self) -> Topology:
        return self.platform.topology

    # --- the parts a test switches off and on -------------------------------------------------------
    def start(self, name: str) -> None:
        log = (self.platform.var_dir / f"{name}.log").open("ab")
        self.own[name] = subprocess.Popen(
            [sys.executable, "-m", "mercato", "serve", name],
            env=self.platform.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"{self.topology.service(name).url}/readyz"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} did not start")

    def stop(self, name: str) -> None:
        process = self.own.pop(name, None)
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def start_notifications(self) -> None:
        self.start("notifications")

    def stop_notifications(self) -> None:
        self.stop("notifications")

    def stop_broker(self) -> None:
        if self.nats:
            self.nats.stop()
        else:
            self.proxy.cut()

    def start_broker(self) -> None:
        if self.nats:
            self.nats.start()
        else:
            self.proxy.restore()

    # --- what a test looks at ---------------------------------------------------------------------
    def mails_to(self, address: str) -> list[dict]:
        return httpx.get(
            f"{self.topology.mail_sink_web_url}/api/messages", params={"to": address, "limit": 1000}
        ).json()["data"]

    def dead_letters(self) -> list[dict]:
        url = self.topology.service("notifications").url
        return httpx.get(f"{url}/internal/dead-letters").json()["data"]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mercato", *args],
            env=self.platform.env | {"COLUMNS": "250"},
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module", params=BROKERS)
def events(request, tmp_path_factory) -> Iterator[EventPlatform]:
    kind = request.param
    var_dir = tmp_path_factory.mktemp(f"events-{kind}")
    topology = Topology(offset=PORT_OFFSETS[kind])
    nats = proxy = None
    if kind == "nats":
        nats = NatsServer(var_dir / "jetstream")
        nats.start()
        settings = settings_for(kind, nats)
    else:
        proxy = TcpProxy(int(RABBITMQ_URL.rsplit(":", 1)[1].split("/")[0]))
        settings = settings_for(kind, None)
        settings.url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/"
    env = platform_env(var_dir, topology) | {
        "MERCATO_BROKER_URL": settings.url,
        "MERCATO_BROKER_NAMESPACE": settings.namespace,
        "MERCATO_CONSUMER_MAX_ATTEMPTS": "4",
        "MERCATO_CONSUMER_RETRY_BASE_SECONDS": "0.25",
        "MERCATO_NOTIFICATIONS_DISPATCH_RETRY_BASE_SECONDS": "0.2",
    }
    platform = start_platform(var_dir, topology, env, "--without", "notifications", "--without", "search")
    event_platform = EventPlatform(platform, kind, nats, proxy)
    try:
        event_platform.start("notifications")
        event_platform.start("search")
        yield event_platform
    finally:
        for name in list(event_platform.own):
            event_platform.stop(name)
        stop_platform(platform)
        if nats:
            nats.stop()
        else:
            proxy.cut()
            queues = [f"{settings.namespace}.{s.service}.{s.aggregate}" for s in _all_subscriptions()]
            asyncio.run(clean_rabbitmq(settings.namespace, queues))


@pytest.fixture
def gateway(events) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=events.platform.gateway, timeout=15) as client:
        yield client


def register(gateway) -> tuple[str, str, dict[str, str]]:
    email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
    response = gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Ada"}
    )
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]
    return customer_id, email, {}


def place_orders(events: EventPlatform, gateway, customer_id: str, count: int, sku: str) -> list[str]:
    """Buys `sku` `count` times; returns the orders' numbers (M-…), as their confirmations name them."""
    auth = events.platform.token_for(customer_id)
    orders = []
    for _ in range(count):
        assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code in (200, 201)
        response = gateway.post(
            "/api/v1/checkout",
            json={"shipping_address": ADDRESS, "payment_method": events.platform.card()},
            headers=auth | {"Idempotency-Key": new_id("key")},
        )
        assert response.status_code == 201, response.text
        orders.append(response.json()["number"])
    return orders


def confirmations(events: EventPlatform, email: str) -> list[dict]:
    return [m for m in events.mails_to(email) if "is confirmed" in m["subject"]]


def wait_for_confirmations(events: EventPlatform, expected: dict[str, int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(confirmations(events, email)) >= n for email, n in expected.items()):
            return
        time.sleep(0.25)
    got = {email: len(confirmations(events, email)) for email in expected}
    raise AssertionError(f"expected {expected}, got {got}")


def assert_one_confirmation_per_order(events: EventPlatform, email: str, orders: list[str]) -> None:
    time.sleep(1.0)  # anything duplicated would arrive by now
    mails = confirmations(events, email)
    assert sorted(m["subject"].split()[2] for m in mails) == sorted(orders)


def test_orders_succeed_while_notifications_is_down_then_each_is_confirmed_exactly_once(events, gateway):
    sku = _sku_with_stock(events.platform, gateway, stock=1000)
    shoppers = [register(gateway) for _ in range(5)]
    events.stop_notifications()
    try:
        placed = {email: place_orders(events, gateway, cid, 10, sku) for cid, email, _ in shoppers}
        assert sum(len(o) for o in placed.values()) == 50
        assert all(confirmations(events, email) == [] for email in placed)
    finally:
        events.start_notifications()
    wait_for_confirmations(events, {email: 10 for email in placed})
    for email, orders in placed.items():
        assert_one_confirmation_per_order(events, email, orders)
        assert len([m for m in events.mails_to(email) if m["subject"].startswith("Welcome")]) == 1


def test_orders_succeed_while_the_broker_is_down_and_every_event_arrives_after(events, gateway):
    sku = _sku_with_stock(events.platform, gateway, stock=1000)
    customer_id, email, _ = register(gateway)
    wait_for_welcome(events, email)
    events.stop_broker()
    try:
        orders = place_orders(events, gateway, customer_id, 10, sku)
        metrics = httpx.get(f"{events.platform.service_url('orders')}/metrics").text
        pending = metric_value(metrics, "mercato_outbox_pending_events", service="orders")
        assert pending >= 10  # committed, waiting in the outbox
    finally:
        events.start_broker()
    wait_for_confirmations(events, {email: 10})
    assert_one_confirmation_per_order(events, email, orders)


def test_a_relay_killed_mid_batch_loses_nothing_and_duplicates_are_absorbed(events, gateway):
    sku = _sku_with_stock(events.platform, gateway, stock=1000)
    customer_id, email, _ = register(gateway)
    wait_for_welcome(events, email)
    events.stop_broker()
    try:
        orders = place_orders(events, gateway, customer_id, 12, sku)
        # The next batch the orders relay publishes kills it halfway, before marking anything.
        (events.platform.var_dir / "crash-relay-mid-batch-orders").touch()
    finally:
        events.start_broker()
    wait_for_confirmations(events, {email: 12})
    assert_one_confirmation_per_order(events, email, orders)
    assert not (events.platform.var_dir / "crash-relay-mid-batch-orders").exists()  # it did crash
    assert '"service":"orders","logger":"mercato.relay","msg":"crash hook' in events.platform.log.read_text()


def test_a_poison_event_is_dead_lettered_while_others_flow_and_replays_once(events, gateway):
    sku = _sku_with_stock(events.platform, gateway, stock=1000)
    # Orders of a customer notifications has never heard of: its handler fails every time.
    stranger = new_id("cus")
    [poison_order] = place_orders(events, gateway, stranger, 1, sku)
    customer_id, email, _ = register(gateway)
    orders = place_orders(events, gateway, customer_id, 3, sku)
    wait_for_confirmations(events, {email: 3})  # the others flow
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not events.dead_letters():
        time.sleep(0.25)
    [dead] = [d for d in events.dead_letters() if d["event_type"] == "OrderPlaced"]
    assert dead["handler"] == "send_order_confirmation" and dead["attempts"] == 4
    assert "no contact details" in dead["error"]
    listed = events.cli("events", "dead-letters", "list", "--service", "notifications")
    assert listed.returncode == 0 and dead["id"] in listed.stdout

    # The fix: the stranger's details arrive (as customers' CustomerRegistered would).
    stranger_email = f"stranger-{uuid.uuid4().hex[:8]}@example.com"
    asyncio.run(publish_registration(events, stranger, stranger_email))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        m["subject"].startswith("Welcome") for m in events.mails_to(stranger_email)
    ):
        time.sleep(0.25)

    replayed = events.cli("events", "dead-letters", "replay", dead["id"])
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    wait_for_confirmations(events, {stranger_email: 1})
    again = events.cli("events", "dead-letters", "replay", "--all", "--service", "notifications")
    assert again.returncode == 0
    assert_one_confirmation_per_order(events, stranger_email, [poison_order])
    assert_one_confirmation_per_order(events, email, orders)
    assert not [d for d in events.dead_letters() if d["status"] == "dead"]


def wait_for_welcome(events: EventPlatform, email: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(m["subject"].startswith("Welcome") for m in events.mails_to(email)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no welcome e-mail for {email}")


async def publish_registration(events: EventPlatform, customer_id: str, email: str) -> None:
    event = CustomerRegistered(
        customer_id=customer_id,
        email=email,
        name="Stranger",
        phone=None,
        language="en",
        opt_ins=OptIns(email=True, sms=False, push=False),
        registered_at=datetime.now(UTC),
    )
    envelope = event.envelope()
    publisher = EventPublisher(
        settings_for(events.kind, events.nats).model_copy(
            update={
                "url": events.platform.env["MERCATO_BROKER_URL"],
                "namespace": events.platform.env["MERCATO_BROKER_NAMESPACE"],
            }
        )
    )
    try:
        await publisher.publish(
            [
                OutboundEvent(
                    event_id=envelope["event_id"],
                    event_type=event.type,
                    aggregate_type=event.aggregate,
                    aggregate_id=customer_id,
                    body=orjson.dumps(envelope),
                    headers={},
                )
            ]
        )
    finally:
        await publisher.close()


def test_with_search_down_browsing_works_and_search_catches_up_when_it_is_back(events, gateway):
    deadline = time.monotonic() + 60  # search first works through the seed's 228 products
    while gateway.get("/api/v1/search").json()["total"] < 228:
        assert time.monotonic() < deadline, "the seeded catalog was not indexed"
        time.sleep(0.2)
    events.stop("search")
    try:
        down = gateway.get("/api/v1/search", params={"q": "shirt"})
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert gateway.get("/api/v1/products").status_code == 200  # the shop still browses
        assert gateway.get("/api/v1/products/classic-cotton-t-shirt").status_code == 200
        word = f"quokka{uuid.uuid4().hex[:6]}"
        created = httpx.post(
            f"{events.platform.service_url('catalog')}/admin/v1/products",
            json={
                "slug": f"{word}-mug",
                "name": f"{word.title()} Mug",
                "brand": "Hearth",
                "category": "women-tshirts",
                "variants": [
                    {
                        "sku": f"MUG-{word[-6:].upper()}",
                        "price": {"amount": 1299, "currency": "EUR"},
                        "stock": 5,
                    }
                ],
            },
            headers=events.platform.staff_headers("merchandising"),
        )
        assert created.status_code == 201, created.text
    finally:
        events.start("search")
    deadline = time.monotonic() + 15
    while True:
        hits = gateway.get("/api/v1/search", params={"q": word}).json()["data"]
        if hits:
            break
        assert time.monotonic() < deadline, "search did not catch up from the broker"
        time.sleep(0.1)
    assert hits[0]["slug"] == f"{word}-mug"
