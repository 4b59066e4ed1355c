"""With replicas, the services' own ports are Envoy's: each balanced over its service's replicas, retried
on another replica when one refuses (tests/e2e/test_replicas.py kills replicas under load)."""

from __future__ import annotations

from mercato.gateway.envoy import build_config
from mercato.gateway.settings import GatewaySettings
from mercato.topology import Topology


def _listeners(topology: Topology) -> dict[str, dict]:
    config = build_config(topology, GatewaySettings())
    return {listener["name"]: listener for listener in config["static_resources"]["listeners"]}


def test_each_service_port_is_a_balanced_door_to_its_replicas():
    topology = Topology(offset=300, replicas=2)
    listeners = _listeners(topology)
    assert topology.replica_ports("search") == [topology.service("search").port]  # its index is its own
    for name, service in topology.upstreams.items():
        if name == "search":
            assert "internal-search" not in listeners
            continue
        listener = listeners[f"internal-{name}"]
        assert listener["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": service.port}
        manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
        (route,) = manager["route_config"]["virtual_hosts"][0]["routes"]
        assert route["route"]["cluster"] == name
        assert "connect-failure" in route["route"]["retry_policy"]["retry_on"]
        assert service.port not in topology.replica_ports(name)


def test_one_replica_listens_itself():
    assert not [name for name in _listeners(Topology(offset=300)) if name.startswith("internal-")]
