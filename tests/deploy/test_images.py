"""The platform from its one image, run by podman here: every service in its own read-only container as
uid 10001, two replicas each of orders, catalog and payments behind Envoy (its config from
`Placement.dns`, upstreams by container DNS name), each service on its own PostgreSQL database and role,
events through RabbitMQ, the Stripe-compatible sandbox and the mail sink as containers too. Then a
shopper buys through the gateway.

Kubernetes manifests are not played here (`podman kube play`): containers on one network, which is what
kube play makes of pods anyway, with the replicas sharing their service's DNS name as a Service would.
Runs once (not per database backend); the image is rebuilt only when the source changed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from mercato.cli import _all_subscriptions
from mercato.platform.crypto import new_key
from mercato.platform.provision import ServiceDatabase, drop
from mercato.topology import Topology
from tests.deploy.podman import IMAGE, Network, build_images, podman, wait_for
from tests.e2e.test_checkout import ADDRESS
from tests.platform.brokers import TcpProxy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed (make podman)"),
]

PG_URL = os.environ.get("MERCATO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("MERCATO_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
NAME = "mercato-images-e2e"
PREFIX = "mercato_img"  # its databases and roles
REPLICATED = ("orders", "catalog", "payments")
# Host ports (24000-24999 are this test's): only what the test itself talks to is published.
GATEWAY, ENVOY_ADMIN, SANDBOX, MAIL_WEB, STOREFRONT = 24080, 24901, 24110, 24126, 24000
COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml").read_text())[
    "services"
]
TOPOLOGY = Topology()  # in a container every process is at its own port, offset 0


@dataclass
class Deployed:
    network: Network
    gateway: str = f"http://127.0.0.1:{GATEWAY}"
    envoy_admin: str = f"http://127.0.0.1:{ENVOY_ADMIN}"
    sandbox: str = f"http://127.0.0.1:{SANDBOX}"
    mail: str = f"http://127.0.0.1:{MAIL_WEB}"
    storefront: str = f"http://127.0.0.1:{STOREFRONT}"


def _databases(network: Network, host: str) -> dict[str, str]:
    """`mercato deploy databases`, run from the image as an operator would: per service a database and a
    login role owning it, which no other role may connect to. Left-overs of an earlier run go first."""
    admin = make_url(PG_URL).set(drivername="postgresql", host=host)
    for service in TOPOLOGY.services:
        asyncio.run(drop(PG_URL, ServiceDatabase(service, f"{PREFIX}_{service}", f"{PREFIX}_{service}", "")))
    run = network.once(
        f"{NAME}-databases",
        ["mercato", "deploy", "databases", "--prefix", PREFIX, "--secrets-dir", "/tmp/passwords"],
        env={"MERCATO_POSTGRES_ADMIN_URL": admin.render_as_string(hide_password=False)},
    )
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 0, output
    urls = dict(line.split("=", 1) for line in output.splitlines() if line.startswith("MERCATO_"))
    return {service: urls[f"MERCATO_{service.upper()}_DATABASE_URL"] for service in TOPOLOGY.services}


async def _drop_broker_namespace(namespace: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel()
        for s in _all_subscriptions():
            await channel.queue_delete(f"{namespace}.{s.service}.{s.aggregate}")
        await channel.exchange_delete(f"{namespace}.events")
    finally:
        await connection.close()


def _environment(gateway_host: str, namespace: str) -> dict[str, str]:
    """What every container gets: where the others are (by DNS name), the broker; nothing secret."""
    rabbit = urlsplit(RABBITMQ_URL)
    address = f"{gateway_host}:{rabbit.port or 5672}"
    broker = rabbit._replace(netloc=f"{rabbit.username}:{rabbit.password}@{address}")
    env = {
        "MERCATO_BROKER_URL": broker.geturl(),
        "MERCATO_BROKER_NAMESPACE": namespace,
        "MERCATO_CUSTOMERS_NOTIFICATIONS_URL": "http://notifications:8105",
        "MERCATO_ORDERS_CATALOG_URL": "http://catalog:8102",
        "MERCATO_ORDERS_PAYMENTS_URL": "http://payments:8104",
        "MERCATO_ORDERS_NOTIFICATIONS_URL": "http://notifications:8105",
        "MERCATO_PAYMENTS_STRIPE_API_BASE": "http://payment-sandbox:8110",
        "MERCATO_NOTIFICATIONS_ORDERS_URL": "http://orders:8103",
        "MERCATO_NOTIFICATIONS_PAYMENTS_URL": "http://payments:8104",
        "MERCATO_NOTIFICATIONS_SMTP_HOST": "mail-sink",
        "MERCATO_SEARCH_CATALOG_URL": "http://catalog:8102",
        "MERCATO_MOBILE_API_CATALOG_URL": "http://catalog:8102",
        "MERCATO_MOBILE_API_SEARCH_URL": "http://search:8106",
        "MERCATO_MOBILE_API_ORDERS_URL": "http://orders:8103",
        "MERCATO_MOBILE_API_CUSTOMERS_URL": "http://customers:8101",
        "MERCATO_MOBILE_API_PAYMENT_API_BASE": "http://payment-sandbox:8110",
        "MERCATO_CATALOG_BROWSE_MAX_AGE_SECONDS": "0",
        "MERCATO_STOREFRONT_GATEWAY_URL": "http://gateway:8080",
        "MERCATO_STOREFRONT_HOST": "0.0.0.0",
        "MERCATO_PAYMENT_SANDBOX_HOST": "0.0.0.0",
        "MERCATO_PAYMENT_SANDBOX_WEBHOOK_URL": "http://gateway:8080/webhooks/stripe",
        "MERCATO_MAIL_SINK_HOST": "0.0.0.0",
    }
    for name in TOPOLOGY.upstreams:
        env[f"MERCATO_{name.upper().replace('-', '_')}_HOST"] = "0.0.0.0"
    return env


def _secrets(network: Network) -> dict[str, dict[str, str]]:
    """The replicated services' data keys (both replicas must share them), as podman secrets."""
    return {
        "orders": {
            "MERCATO_ORDERS_DATA_KEYS": network.secret("orders-data-keys", new_key()),
            "MERCATO_ORDERS_BLIND_INDEX_KEY": network.secret("orders-blind-index-key", new_key()),
        },
        "payments": {"MERCATO_PAYMENTS_DATA_KEYS": network.secret("payments-data-keys", new_key())},
    }


def _with_database(env: dict[str, str], databases: dict[str, str], name: str) -> dict[str, str]:
    """A process's environment: its own database's URL (with its own role), no other's."""
    if name not in databases:
        return env  # the mobile API has none
    return env | {f"MERCATO_{name.upper()}_DATABASE_URL": databases[name]}


def _one_shots(network: Network, env: dict[str, str], databases: dict[str, str]) -> None:
    """Migrations (each with its own role), then the demo catalog and the broker's subscriptions."""

    def database(service: str) -> dict[str, str]:
        return _with_database(env, databases, service)

    def wait(runs: dict[str, object]) -> None:
        for name, run in runs.items():
            output, _ = run.communicate(timeout=300)
            assert run.returncode == 0, f"{name} failed:\n{output[-3000:]}"

    wait(
        {
            s: network.once(f"{NAME}-migrate-{s}", ["mercato", "migrate", s], env=database(s))
            for s in databases
        }
    )
    wait(
        {
            "seed": network.once(f"{NAME}-seed", ["mercato", "seed"], env=database("catalog")),
            "broker": network.once(f"{NAME}-broker-setup", ["mercato", "broker", "setup"], env=env),
        }
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    build_images()
    network = Network(NAME)
    gateway_host = network.create()
    # The machine's PostgreSQL and RabbitMQ listen on 127.0.0.1: containers reach them here.
    proxies = [TcpProxy(5432, port=5432, host=gateway_host), TcpProxy(5672, port=5672, host=gateway_host)]
    namespace = f"img{uuid.uuid4().hex[:8]}"
    try:
        env = _environment(gateway_host, namespace)
        databases = _databases(network, gateway_host)
        secrets = _secrets(network)
        network.start(
            f"{NAME}-payment-sandbox",
            ["python", "-m", "mercato.sandbox.payments"],
            alias="payment-sandbox",
            env=env,
            ports={SANDBOX: 8110},
        )
        network.start(
            f"{NAME}-mail-sink",
            ["python", "-m", "mercato.sandbox.mail"],
            alias="mail-sink",
            env=env,
            ports={MAIL_WEB: 8126},
        )
        _one_shots(network, env, databases)
        watched = [f"{NAME}-gateway"]
        for name in TOPOLOGY.upstreams:
            own = _with_database(env, databases, name)
            for replica in range(1, 3 if name in REPLICATED else 2):
                watched.append(f"{NAME}-{name}-{replica}")
                network.start(
                    watched[-1], ["mercato", "serve", name], alias=name, env=own, secrets=secrets.get(name)
                )
        # As deploy/compose.yaml runs them: Envoy's config written at start (Placement.dns, upstreams by
        # their DNS names) from the image's own route table; the storefront a client of the gateway.
        network.start(
            f"{NAME}-gateway",
            COMPOSE["gateway"]["command"],
            alias="gateway",
            env=env,
            ports={GATEWAY: 8080, ENVOY_ADMIN: 9901},
        )
        network.start(
            f"{NAME}-storefront",
            COMPOSE["storefront"]["command"],
            alias="storefront",
            env=env,
            ports={STOREFRONT: 8000},
        )
        watched.append(f"{NAME}-storefront")
        deployed = Deployed(network)
        wait_for(f"{deployed.envoy_admin}/ready", network, watched)
        wait_for(f"{deployed.storefront}/healthz", network, watched)
        for upstream in TOPOLOGY.upstreams:
            _wait_for_healthy(deployed, upstream, 2 if upstream in REPLICATED else 1, watched)
        yield deployed
    finally:
        network.remove()
        for proxy in proxies:
            proxy.cut()
        asyncio.run(_drop_broker_namespace(namespace))


def _hosts(deployed: Deployed, cluster: str) -> dict[str, dict[str, str]]:
    """Envoy's view of a cluster's addresses: address → {stat: value} (rq_total, health_flags, …)."""
    hosts: dict[str, dict[str, str]] = {}
    for line in httpx.get(f"{deployed.envoy_admin}/clusters").text.splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == cluster and ":" in parts[1]:
            hosts.setdefault(parts[1], {})[parts[2]] = parts[3]
    return hosts


def _wait_for_healthy(deployed: Deployed, cluster: str, count: int, watched: list[str]) -> None:
    """Until Envoy's health checks found `count` healthy addresses behind the cluster's DNS name."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        healthy = [a for a, s in _hosts(deployed, cluster).items() if s.get("health_flags") == "healthy"]
        if len(healthy) == count:
            return
        time.sleep(0.5)
    logs = "\n".join(f"--- {c}\n{deployed.network.logs(c)}" for c in watched if cluster in c)
    raise AssertionError(f"{cluster}: {_hosts(deployed, cluster)}, wanted {count} healthy\n{logs}")


def test_the_image_is_one_non_root_image_labelled_with_its_source(deployed):
    image = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
    assert image["Config"]["User"] == "10001:10001"
    assert image["Config"]["Labels"]["org.opencontainers.image.title"] == "mercato"
    assert len(image["Config"]["Labels"]["org.mercato.source-hash"]) == 16
    container = json.loads(podman("container", "inspect", f"{NAME}-orders-1").stdout)[0]
    assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert container["Config"]["Healthcheck"]["Test"] == ["CMD", "mercato-healthcheck"]
    for name in (f"{NAME}-orders-2", f"{NAME}-gateway", f"{NAME}-storefront", f"{NAME}-payment-sandbox"):
        assert podman("healthcheck", "run", name, check=False).returncode == 0, deployed.network.logs(name)


def test_a_shopper_buys_through_the_gateway_and_both_replicas_serve(deployed):
    gateway = httpx.Client(base_url=deployed.gateway, timeout=15)
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    registered = gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Buyer"}
    )
    assert registered.status_code == 201, registered.text
    token = gateway.post("/api/v1/auth/token", json={"email": email, "password": "correct horse battery"})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    cart = gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=auth)
    assert cart.status_code == 200, cart.text
    card = httpx.post(  # tokenised at the provider, as the browser does
        f"{deployed.sandbox}/v1/payment_methods",
        headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    ).json()["id"]

    checkout = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": card},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )

    assert checkout.status_code == 201, checkout.text
    order = checkout.json()
    assert (order["state"], order["payment"]["status"]) == ("placed", "captured")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # a few reads, spread over the replicas
        reads = list(pool.map(lambda _: gateway.get(f"/api/v1/orders/{order['id']}", headers=auth), range(8)))
    assert all(r.status_code == 200 and r.json()["id"] == order["id"] for r in reads)
    assert gateway.get("/api/v1/orders", headers=auth).json()["data"][0]["id"] == order["id"]
    _wait_for_mail(deployed, email, f"Your order {order['number']} is confirmed")  # RabbitMQ → notifications
    for cluster in REPLICATED:
        hosts = _hosts(deployed, cluster)
        assert [s["health_flags"] for s in hosts.values()] == ["healthy", "healthy"], hosts
    served = {address: int(s["rq_total"]) for address, s in _hosts(deployed, "orders").items()}
    assert all(count > 0 for count in served.values()), served
    shop = httpx.get(f"{deployed.storefront}/p/classic-cotton-t-shirt", timeout=15)
    assert shop.status_code == 200 and sku in shop.text  # the storefront's page, through the gateway


def _wait_for_mail(deployed: Deployed, email: str, subject: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = httpx.get(f"{deployed.mail}/api/messages", params={"to": email}).json()["data"]
        if any(m["subject"] == subject for m in found):
            return
        time.sleep(0.5)
    raise AssertionError(f"no e-mail {subject!r} to {email}")


def test_containers_write_nothing_but_tmp(deployed):
    done = podman("exec", f"{NAME}-catalog-1", "sh", "-c", "touch /opt/mercato/x; id -u", check=False)
    assert "Read-only file system" in done.stderr and done.stdout.strip() == "10001"
