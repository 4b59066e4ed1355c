"""Where the gateway listens and where it finds each upstream: the one input that differs between this
machine, several replicas of a service here, and a cluster.

* **local** — `mercato up`: every upstream on 127.0.0.1 at its topology port (with `--replicas N`, at each
  replica's port), as static addresses.
* **dns** — Kubernetes, compose, `podman kube play`: each upstream by a DNS name (a Kubernetes Service, a
  compose service, a pod), resolved by Envoy (`STRICT_DNS`) so new pods are picked up as the name's
  addresses change; Envoy listens on every interface of its pod.

With more than one address per upstream, or a DNS name (behind which any number of pods may be),
Envoy checks each address's `/readyz` and sends requests only to the ready ones, ejects an address
that refuses connections, and retries a request that never reached a service on another address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

from mercato.topology import HOST, Topology

Config = dict[str, Any]
HEALTH_PATH = "/readyz"
HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)
INTERNAL_ROUTE_TIMEOUT = "60s"  # the calling service's own client timeout is the one that matters


@dataclass(frozen=True)
class Placement:
    bind: str  # the listener's (and the admin's) address
    # upstream name → (host, port) of each of its addresses
    endpoints: Mapping[str, tuple[tuple[str, int], ...]]

    @classmethod
    def local(cls, topology: Topology) -> Placement:
        return cls(
            bind=HOST,
            endpoints={
                name: tuple((HOST, port) for port in topology.replica_ports(name))
                for name in topology.upstreams
            },
        )

    @classmethod
    def dns(cls, topology: Topology, hosts: Mapping[str, str], *, bind: str = "0.0.0.0") -> Placement:
        """Each upstream at `hosts[name]` (default: its own name) on its topology port."""
        return cls(
            bind=bind,
            endpoints={
                name: ((hosts.get(name, name), service.port),) for name, service in topology.upstreams.items()
            },
        )

    def balanced(self, name: str) -> bool:
        """True when Envoy chooses among several addresses (and so checks their health)."""
        addresses = self.endpoints[name]
        return len(addresses) > 1 or not all(_is_ip(host) for host, _ in addresses)


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def cluster(name: str, placement: Placement, protocol_options: Config) -> Config:
    addresses = placement.endpoints[name]
    dns = not all(_is_ip(host) for host, _ in addresses)
    config: Config = {
        "name": name,
        "type": "STRICT_DNS" if dns else "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
                        for host, port in addresses
                    ]
                }
            ],
        },
        "typed_extension_protocol_options": protocol_options,
    }
    if dns:
        config["dns_lookup_family"] = "V4_PREFERRED"
        config["dns_refresh_rate"] = "5s"
        config["respect_dns_ttl"] = True
    if placement.balanced(name):
        config["health_checks"] = [
            {
                "timeout": "1s",
                "interval": "2s",
                "no_traffic_interval": "5s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "http_health_check": {"path": HEALTH_PATH},
            }
        ]
        # A replica that refuses connections (killed, restarting) leaves the pool at once, before its
        # health check notices; it comes back after the ejection time if it answers again.
        config["outlier_detection"] = {
            "split_external_local_origin_errors": True,
            "consecutive_local_origin_failure": 1,
            "enforcing_consecutive_local_origin_failure": 100,
            "consecutive_5xx": 1000,  # a service's own 5xx answers are not the address's fault
            "interval": "1s",
            "base_ejection_time": "5s",
            "max_ejection_percent": 100,
        }
        config["common_lb_config"] = {"healthy_panic_threshold": {"value": 0}}
    return config


def internal_listeners(
    topology: Topology, placement: Placement, *, route: Callable[[str], Config], router: Config
) -> list[Config]:
    """With several replicas here, a service's own port — where the other services call it — is no
    replica's: Envoy listens there (one listener per upstream), balanced over the replicas with the
    gateway's health checks and retries, so orders' call to catalog survives a dead catalog replica.
    Requests pass as they are: the identity headers on them were set by the gateway (or by the caller)."""
    listeners = []
    for name, service in topology.upstreams.items():
        if placement.bind != HOST or (HOST, service.port) in placement.endpoints[name]:
            continue
        manager = {
            "@type": HCM_TYPE,
            "stat_prefix": f"internal_{name}",
            "codec_type": "AUTO",
            "preserve_external_request_id": True,
            "server_header_transformation": "PASS_THROUGH",
            "route_config": {
                "name": f"internal-{name}",
                "virtual_hosts": [
                    {
                        "name": name,
                        "domains": ["*"],
                        "routes": [
                            {
                                "match": {"prefix": "/"},
                                "route": route(name) | {"timeout": INTERNAL_ROUTE_TIMEOUT},
                            }
                        ],
                    }
                ],
            },
            "http_filters": [router],
        }
        listeners.append(
            {
                "name": f"internal-{name}",
                "address": {"socket_address": {"address": HOST, "port_value": service.port}},
                "enable_reuse_port": False,
                "filter_chains": [
                    {
                        "filters": [
                            {"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}
                        ]
                    }
                ],
            }
        )
    return listeners
