"""The Kubernetes manifests: each overlay renders (`kubectl kustomize`), every object is valid Kubernetes
1.32 (kubernetes-validate, strict: no unknown fields), and what a reviewer checks by hand holds — probes,
limits, a locked-down pod, no secret in git, a network where each service reaches only its database,
the broker, its callees and DNS, and a gateway config that is the route table's current rendering.

No control plane runs here: the manifests are rendered and validated, not applied (docs/deploy.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from ipaddress import ip_network
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from mercato.cli import APP_SETTINGS
from mercato.deploy.processes import CALLS, processes
from mercato.deploy.render import KUBERNETES_DIR, kubernetes_files
from mercato.topology import Topology

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / KUBERNETES_DIR
KUBERNETES_VERSION = "1.32.0"  # a version kubernetes-validate ships the schemas of (and kubectl's)
OVERLAYS = ("dev", "production")
BUILDS = (*OVERLAYS, *(f"{overlay}/migrations" for overlay in OVERLAYS))
TOPOLOGY = Topology()
PROCESSES = processes(TOPOLOGY)
SERVICES = set(TOPOLOGY.upstreams)
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY|_KEYS|_PEM|DATABASE_URL|BROKER_URL")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with kustomize v5) renders the overlays: install it (docs/deploy.md)"
    found = {}
    for build in BUILDS:
        out = subprocess.run(
            [kubectl, "kustomize", str(TREE / "overlays" / build)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, f"kubectl kustomize overlays/{build}: {out.stderr}"
        found[build] = [doc for doc in yaml.safe_load_all(out.stdout) if doc]
    return found


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def workloads(docs: list[dict]) -> dict[str, dict]:
    """The long-running processes: Deployments, and search's StatefulSet."""
    return of_kind(docs, "Deployment") | of_kind(docs, "StatefulSet")


def test_the_generated_files_are_what_mercato_deploy_kubernetes_writes_now():
    """Workloads, policies, Jobs and envoy.json follow the topology and the route table: regenerate them
    with `mercato deploy kubernetes` after changing either."""
    for relative, text in kubernetes_files(TREE).items():
        assert (TREE / relative).read_text() == text, f"{relative} is stale: run `mercato deploy kubernetes`"


def test_every_object_is_valid_kubernetes_strictly(rendered):
    for build, docs in rendered.items():
        assert docs, build
        for doc in docs:
            name = f"{build}: {doc['kind']}/{doc['metadata']['name']}"
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{name}: {error.message} at {list(error.path)}")


def test_each_overlay_runs_every_process_with_its_sizes(rendered):
    for overlay in OVERLAYS:
        deployments = workloads(rendered[overlay])
        assert set(PROCESSES) <= set(deployments)
        replicas = {name: d["spec"]["replicas"] for name, d in deployments.items() if name in PROCESSES}
        hpas = of_kind(rendered[overlay], "HorizontalPodAutoscaler")
        pdbs = of_kind(rendered[overlay], "PodDisruptionBudget")
        if overlay == "dev":
            assert set(replicas.values()) == {1} and not hpas and not pdbs
        else:
            scalable = {name for name, p in PROCESSES.items() if p.scalable}
            assert min(replicas[name] for name in scalable) >= 2
            assert set(hpas) == set(pdbs) == scalable
            assert all(replicas[name] == 1 for name in set(PROCESSES) - scalable)
            assert all(p["spec"]["minAvailable"] == 1 for p in pdbs.values())
            assert all(h["spec"]["minReplicas"] >= 2 for h in hpas.values())
            for d in deployments.values():
                assert d["spec"]["template"]["spec"]["topologySpreadConstraints"]
                assert not d["spec"]["template"]["spec"]["containers"][0]["image"].startswith("localhost/")


def test_every_pod_is_probed_limited_and_locked_down(rendered):
    for build, docs in rendered.items():
        pods = [d["spec"]["template"] for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]
        for pod in pods:
            spec = pod["spec"]
            name = f"{build}: {pod['metadata']['labels']['app.kubernetes.io/name']}"
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert spec["automountServiceAccountToken"] is False, name
            for container in spec["containers"]:
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, name
                assert security["allowPrivilegeEscalation"] is False, name
                assert security["capabilities"] == {"drop": ["ALL"]}, name
                assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
                assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
    for overlay in OVERLAYS:
        for name, deployment in workloads(rendered[overlay]).items():
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container), name
            if name in SERVICES:
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
                assert container["command"] == ["mercato", "serve", name]
                annotations = deployment["spec"]["template"]["metadata"]["annotations"]
                assert annotations["prometheus.io/path"] == "/metrics"
                assert annotations["prometheus.io/port"] == str(TOPOLOGY.service(name).port)


def test_no_secret_value_is_in_git(rendered):
    """Secrets are references only: no Secret object anywhere, no secret-looking key in a ConfigMap."""
    for path in TREE.rglob("*"):
        if path.suffix in (".yaml", ".yml"):
            assert not any(d and d.get("kind") == "Secret" for d in yaml.safe_load_all(path.read_text())), (
                path
            )
    for build, docs in rendered.items():
        assert not of_kind(docs, "Secret"), build
        settings = next(
            d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("mercato-s")
        )
        leaked = [
            key
            for key in settings["data"]
            if SECRET_LIKE.search(key) and not key.endswith(("_FILE", "_KEY_ID"))
        ]
        assert not leaked, f"{build}: {leaked} belong in a Secret"


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


def _selects(policy: dict, labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def _policies_of(docs: list[dict], labels: dict[str, str]) -> list[dict]:
    return [p for p in of_kind(docs, "NetworkPolicy").values() if _selects(p, labels)]


def _network(overlay: str) -> dict[str, str]:
    return yaml.safe_load((TREE / "overlays" / overlay / "common" / "network.yaml").read_text())["data"]


def test_each_service_reaches_only_its_database_the_broker_its_callees_and_dns(rendered):
    docs, network = rendered["production"], _network("production")
    pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in workloads(docs).items()}
    assert any(
        p["spec"]["podSelector"] == {} and p["spec"]["egress"] == []
        for p in of_kind(docs, "NetworkPolicy").values()
    )
    for name, process in PROCESSES.items():
        reached: set[tuple[str, int]] = set()
        for policy in _policies_of(docs, pod_labels[name]):
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
        "admin": _network("production")["admin-cidr"],
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


def test_the_cidrs_are_networks(rendered):
    for overlay in OVERLAYS:
        for key, cidr in _network(overlay).items():
            ip_network(cidr)  # raises if an operator's edit is not a network
            assert key.startswith(("database-cidr-", "broker-cidr", "admin-cidr")), key
        assert {f"database-cidr-{n}" for n, p in PROCESSES.items() if p.database} <= set(_network(overlay))


def test_migrations_are_one_job_per_database_and_the_broker_setup(rendered):
    for overlay in OVERLAYS:
        docs = rendered[f"{overlay}/migrations"]
        jobs = of_kind(docs, "Job")
        databases = sorted(n for n, p in PROCESSES.items() if p.database)
        assert set(jobs) == {f"migrate-{n}" for n in databases} | {"broker-setup"}
        for name in databases:
            pod = jobs[f"migrate-{name}"]["spec"]["template"]
            assert pod["spec"]["containers"][0]["command"] == ["mercato", "migrate", name]
            env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["spec"]["containers"][0]["env"]}
            assert env[f"MERCATO_{name.upper()}_DATABASE_URL"] == {
                "name": f"mercato-{name}",
                "key": "database-url",
            }
            # its own database's policy lets it out; no other database's does
            reaching = {p["metadata"]["name"] for p in _policies_of(docs, pod["metadata"]["labels"])}
            assert {f"{other}-database" for other in databases} & reaching == {f"{name}-database"}
        setup = jobs["broker-setup"]["spec"]["template"]["spec"]["containers"][0]
        assert setup["command"] == ["mercato", "broker", "setup"]
        assert [e["name"] for e in setup["env"]] == ["MERCATO_BROKER_URL"]


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


def test_every_process_starts_in_production_from_the_configmap_and_its_secrets(rendered, monkeypatch):
    """The settings each pod gets (the ConfigMap, then a value for every Secret key it references) load in
    the production environment, with the URLs of the cluster's Services."""
    from mercato.admin.settings import AdminSettings
    from mercato.cli import _settings
    from mercato.storefront.settings import StorefrontSettings

    docs = rendered["production"]
    settings = next(
        d["data"] for n, d in of_kind(docs, "ConfigMap").items() if n.startswith("mercato-settings")
    )
    key = "k1:" + "A" * 43  # a data key's shape: an id and 32 bytes, base64url
    for name, deployment in workloads(docs).items():
        with monkeypatch.context() as env:
            for variable, value in settings.items():
                env.setenv(variable, value)
            for ref in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
                secret = ref["valueFrom"]["secretKeyRef"]["key"]
                placeholder = {"data-keys": key, "blind-index-key": key}.get(secret, f"{secret}-of-{name}")
                env.setenv(ref["name"], placeholder)
            if name in SERVICES:
                loaded = _settings(name)
                assert (loaded.host, loaded.port, loaded.environment) == (
                    "0.0.0.0",
                    TOPOLOGY.service(name).port,
                    "production",
                )
                for callee in CALLS[name]:
                    assert (
                        getattr(loaded, f"{callee}_url") == f"http://{callee}:{TOPOLOGY.service(callee).port}"
                    )
            elif name in ("storefront", "admin"):
                front = (StorefrontSettings if name == "storefront" else AdminSettings)()
                assert (front.host, front.gateway_url) == (
                    "0.0.0.0",
                    f"http://gateway:{TOPOLOGY.gateway_port}",
                )


def test_docs_say_how_to_create_every_secret_the_manifests_reference(rendered):
    docs = (ROOT / "docs" / "deploy.md").read_text()
    for build, manifests in rendered.items():
        pods = [
            d["spec"]["template"]["spec"]
            for d in manifests
            if d["kind"] in ("Deployment", "StatefulSet", "Job")
        ]
        for pod in pods:
            for env in pod["containers"][0].get("env", []):
                ref = env["valueFrom"]["secretKeyRef"]
                assert f"s {ref['name']} " in docs, (
                    f"{build}: Secret {ref['name']} missing from docs/deploy.md"
                )
                assert f"{ref['key']}=" in docs, f"{build}: key {ref['key']} of {ref['name']} missing"
            for volume in pod["volumes"]:
                if "secret" in volume:
                    assert f"s {volume['secret']['secretName']} " in docs


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
