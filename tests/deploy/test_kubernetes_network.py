"""The private network made real: each service reaches only its database, the broker, its callees and DNS;
only the front doors are reachable from outside; the gateway finds every pod of each service.
"""

from __future__ import annotations

import os
import subprocess
from ipaddress import ip_network
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from mercato.cli import APP_SETTINGS
from mercato.deploy.processes import CALLS
from tests.deploy.manifests import (
    KUBERNETES_VERSION,
    OVERLAYS,
    PROCESSES,
    SERVICES,
    TOPOLOGY,
    TREE,
    of_kind,
    overlay_network,
    policies_of,
    render,
    workloads,
)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return render()


def test_the_callees_are_the_services_named_by_the_settings_urls(rendered):
    """CALLS (what the network lets a service reach) is what its settings say it calls."""
    for name, path in APP_SETTINGS.items():
        module, _, cls = path.partition(":")
        fields = getattr(__import__(module, fromlist=[cls]), cls).model_fields
        named = {field.removesuffix("_url").replace("_", "-") for field in fields if field.endswith("_url")}
        assert named & SERVICES == set(CALLS[name]), name
    data = of_kind(rendered["production"], "ConfigMap")
    settings = next(d["data"] for n, d in data.items() if n.startswith("mercato-settings"))
    for name, callees in CALLS.items():
        for callee in callees:
            key = f"MERCATO_{name.upper().replace('-', '_')}_{callee.upper()}_URL"
            assert settings[key] == f"http://{callee}:{TOPOLOGY.service(callee).port}", key


def test_each_service_reaches_only_its_database_the_broker_its_callees_and_dns(rendered):
    docs, network = rendered["production"], overlay_network("production")
    pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in workloads(docs).items()}
    assert any(
        p["spec"]["podSelector"] == {} and p["spec"]["egress"] == []
        for p in of_kind(docs, "NetworkPolicy").values()
    )
    for name, process in PROCESSES.items():
        reached: set[tuple[str, int]] = set()
        for policy in policies_of(docs, pod_labels[name]):
            for rule in policy["spec"].get("egress", []):
                ports = [port["port"] for port in rule["ports"]]
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        block = peer["ipBlock"]
                        target = block["cidr"] + ("" if "except" not in block else " (public)")
                    elif "namespaceSelector" in peer:
                        target = "dns"
                    else:
                        target = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                    reached |= {(target, port) for port in ports}
        expected = {("dns", 53)}
        expected |= {(callee, PROCESSES[callee].port) for callee in process.calls}
        if process.database:
            expected.add((network[f"database-cidr-{name}"], 5432))
        if process.broker:
            expected.add((network["broker-cidr"], 4222))
        expected |= {("0.0.0.0/0 (public)", port) for port in process.internet_ports}
        assert reached == expected, name


def test_only_the_public_front_doors_are_reachable_from_outside(rendered):
    docs = rendered["production"]
    opened = {}
    for policy in of_kind(docs, "NetworkPolicy").values():
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "ipBlock" in peer:
                    opened[policy["metadata"]["name"]] = peer["ipBlock"]["cidr"]
    assert opened == {
        "gateway": "0.0.0.0/0",
        "storefront": "0.0.0.0/0",
        "admin": overlay_network("production")["admin-cidr"],
    }
    public = {n for n, s in of_kind(docs, "Service").items() if s["spec"].get("type") == "LoadBalancer"}
    assert public == {"gateway-public", "storefront-public", "admin-public"}
    for name in SERVICES:  # a service: from the gateway, its callers and Prometheus only
        policy = of_kind(docs, "NetworkPolicy")[name]
        peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
        callers = {
            p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in peers if "podSelector" in p
        }
        assert callers == {caller for caller, p in PROCESSES.items() if name in p.calls}, name
        assert "gateway" in callers


def test_the_cidrs_are_networks():
    databases = {f"database-cidr-{n}" for n, p in PROCESSES.items() if p.database}
    for overlay in OVERLAYS:
        cidrs = overlay_network(overlay)
        for key, cidr in cidrs.items():
            ip_network(cidr)  # raises if an operator's edit is not a network
            assert key.startswith(("database-cidr-", "broker-cidr", "admin-cidr")), key
        assert databases <= set(cidrs)


def test_the_gateway_finds_every_pod_of_each_service_through_its_headless_service(rendered):
    docs = rendered["production"]
    envoy = of_kind(docs, "ConfigMap")
    config = yaml.safe_load(
        next(d for n, d in envoy.items() if n.startswith("gateway-envoy"))["data"]["envoy.json"]
    )
    services = of_kind(docs, "Service")
    for cluster in config["static_resources"]["clusters"]:
        if cluster["name"] not in SERVICES:
            continue
        (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        address = endpoint["endpoint"]["address"]["socket_address"]
        headless = services[address["address"]]
        assert headless["spec"]["clusterIP"] == "None"
        assert (
            headless["spec"]["ports"][0]["port"]
            == address["port_value"]
            == TOPOLOGY.service(cluster["name"]).port
        )
        assert cluster["type"] == "STRICT_DNS" and cluster["health_checks"]
    gateway = of_kind(docs, "Deployment")["gateway"]["spec"]["template"]["spec"]
    assert any(v.get("configMap", {}).get("name", "").startswith("gateway-envoy") for v in gateway["volumes"])


def test_the_tracing_component_points_every_pod_at_the_collector_and_lets_it_through(tmp_path):
    """components/tracing, added to production: the settings every Deployment reads name the collector, and
    a policy lets every pod reach it (nothing else)."""
    overlay = Path(os.path.relpath(TREE / "overlays" / "production", tmp_path))
    component = Path(os.path.relpath(TREE / "components" / "tracing", tmp_path))
    (tmp_path / "kustomization.yaml").write_text(f"resources:\n- {overlay}\ncomponents:\n- {component}\n")
    out = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, check=True)
    docs = [doc for doc in yaml.safe_load_all(out.stdout) if doc]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    configmaps = of_kind(docs, "ConfigMap")
    for name, deployment in workloads(docs).items():
        (source,) = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        settings = configmaps[source["configMapRef"]["name"]]["data"]
        assert settings["OTEL_EXPORTER_OTLP_ENDPOINT"].endswith(".monitoring.svc:4318"), name
    otlp = of_kind(docs, "NetworkPolicy")["otlp"]["spec"]
    assert otlp["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "mercato"}}
    assert [port["port"] for rule in otlp["egress"] for port in rule["ports"]] == [4318]


def test_gateway_config_names_each_upstream_as_the_platform_it_runs_on_does(tmp_path):
    """`mercato deploy gateway-config`: compose names, Kubernetes' headless Services, or a name given."""
    import json

    from typer.testing import CliRunner

    from mercato.cli import app

    def upstreams(*args: str) -> dict[str, str]:
        result = CliRunner().invoke(app, ["deploy", "gateway-config", *args])
        assert result.exit_code == 0, result.output
        clusters = json.loads(result.stdout)["static_resources"]["clusters"]
        return {
            c["name"]: c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
                "socket_address"
            ]["address"]
            for c in clusters
            if c["name"] in SERVICES
        }

    assert upstreams("--hosts", "compose") == {name: name for name in SERVICES}
    assert upstreams() == {name: f"{name}-pods" for name in SERVICES}
    assert upstreams("--hosts", "compose", "--host", "orders=orders-pod")["orders"] == "orders-pod"
    refused = CliRunner().invoke(app, ["deploy", "gateway-config", "--host", "nobody=x"])
    assert refused.exit_code != 0
    out = tmp_path / "envoy.json"
    settings = tmp_path / "gateway.env"
    settings.write_text("MERCATO_GATEWAY_ADMIN_ALLOWLIST=10.42.0.0/16\n")
    result = CliRunner().invoke(
        app, ["deploy", "gateway-config", "--settings", str(settings), "--output", str(out)]
    )
    assert result.exit_code == 0 and '"address_prefix": "10.42.0.0"' in out.read_text()
