"""What `mercato up` runs besides the sandboxes and front ends: the broker and the services — one process
each on the embedded profile; on `--profile scale-out`, a PostgreSQL database and role per service, a
three-node NATS JetStream cluster keeping the stream on every node, and with `--replicas N` N processes of
every service (but search, whose index is its own) and of the mobile API.

Each replica listens on its own port (`Topology.replica_ports`) and is named `<service>-<k>` (the
supervisor's prefix, `MERCATO_PROCESS_NAME`, and its PostgreSQL `application_name`, so `pg_stat_activity`
and `pg_locks` tell which replica holds what). The service's own port is then Envoy's, balanced over the
replicas: the gateway and the other services reach a service there and survive one replica's death.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from mercato.supervisor import ProcessSpec
from mercato.topology import HOST, Topology, var_dir

PROFILES = ("embedded", "scale-out")
CLUSTER_NODES = 3
CLUSTER_NAME = "mercato"
DECLARE_TIMEOUT_SECONDS = 30.0  # a new cluster elects its JetStream leader first
HEALTHY_TIMEOUT_SECONDS = 30.0


def prepare_scale_out(topology: Topology) -> bool:
    """Point every service at its own PostgreSQL database and role (provisioned from
    MERCATO_POSTGRES_ADMIN_URL, unless every service's URL is already set) and the broker at a NATS
    cluster run here (unless MERCATO_BROKER_URL names one). True when the NATS cluster is to be run."""
    from mercato.platform.provision import (
        admin_url_from_env,
        database_services,
        default_secrets_dir,
        provision_all,
    )

    names = [f"MERCATO_{service.upper()}_DATABASE_URL" for service in database_services()]
    if not all(os.environ.get(name) for name in names):
        for name, url in provision_all(admin_url_from_env(), "mercato", default_secrets_dir()).items():
            os.environ.setdefault(name, url)
    if os.environ.get("MERCATO_BROKER_URL"):
        return False
    nodes = topology.broker_cluster(CLUSTER_NODES)
    os.environ["MERCATO_BROKER_URL"] = ",".join(f"nats://{HOST}:{client}" for client, _, _ in nodes)
    os.environ.setdefault("MERCATO_BROKER_STREAM_REPLICAS", str(CLUSTER_NODES))
    return True


def _nats_server() -> str:
    return str(Path(sys.executable).parent / "nats-server")


def single_broker(
    topology: Topology, env: dict[str, str], then: Callable[[], Awaitable[None]]
) -> ProcessSpec:
    """The embedded profile's NATS: one JetStream server."""
    return ProcessSpec(
        name="broker",
        argv=[
            _nats_server(),
            *("-a", HOST, "-p", str(topology.broker_port), "--http_port", str(topology.broker_monitor_port)),
            *("-js", "-sd", str(var_dir() / "nats")),
        ],
        env=env,
        ready_url=f"http://{HOST}:{topology.broker_monitor_port}/healthz?js-enabled-only=true",
        then=then,
    )


def broker_cluster(
    topology: Topology, env: dict[str, str], then: Callable[[], Awaitable[None]]
) -> list[ProcessSpec]:
    """Three NATS servers routed to each other, JetStream on each; the last one declares the stream and
    the subscriptions once the cluster has a JetStream leader."""
    nodes = topology.broker_cluster(CLUSTER_NODES)
    routes = ",".join(f"nats://{HOST}:{cluster}" for _, cluster, _ in nodes)
    specs = []
    for k, (client, cluster, monitor) in enumerate(nodes, 1):
        name = f"broker-{k}"
        argv = [
            _nats_server(),
            *("-n", name, "-a", HOST, "-p", str(client), "--http_port", str(monitor)),
            *("-js", "-sd", str(var_dir() / "nats-cluster" / name)),
            *("--cluster_name", CLUSTER_NAME, "--cluster", f"nats://{HOST}:{cluster}", "--routes", routes),
        ]
        specs.append(
            ProcessSpec(
                name=name,
                argv=argv,
                env=env | {"MERCATO_PROCESS_NAME": name},
                ready_url=f"http://{HOST}:{monitor}/healthz?js-enabled-only=true",
                then=_retrying(then) if k == len(nodes) else None,
            )
        )
    return specs


def _retrying(then: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    async def retried() -> None:
        deadline = asyncio.get_running_loop().time() + DECLARE_TIMEOUT_SECONDS
        while True:
            try:
                return await then()
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)

    return retried


def services(topology: Topology, env: dict[str, str]) -> list[ProcessSpec]:
    """Every service and the mobile API, one process per replica, each on its replica's port."""
    specs = []
    for name in topology.upstreams:
        ports = topology.replica_ports(name)
        for k, port in enumerate(ports, 1):
            process = name if len(ports) == 1 else f"{name}-{k}"
            specs.append(
                ProcessSpec(
                    name=process,
                    argv=[sys.executable, "-m", "mercato", "serve", name],
                    env=env
                    | {
                        f"MERCATO_{name.upper().replace('-', '_')}_PORT": str(port),
                        "MERCATO_PROCESS_NAME": process,
                    },
                    ready_url=f"http://{HOST}:{port}/readyz",
                )
            )
    return specs


def replicas_healthy(topology: Topology) -> Callable[[], Awaitable[None]]:
    """Envoy routes to a replica once its health check passed: with replicas, the gateway is ready when
    every replica has (its first checks may have run before the replicas listened)."""

    async def wait() -> None:
        import httpx

        url = f"http://{HOST}:{topology.envoy_admin_port}/clusters"
        deadline = asyncio.get_running_loop().time() + HEALTHY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
            while asyncio.get_running_loop().time() < deadline:
                flags = [
                    line for line in (await client.get(url)).text.splitlines() if "::health_flags::" in line
                ]
                if flags and all(line.endswith("::healthy") for line in flags):
                    return
                await asyncio.sleep(0.2)

    return wait
