"""The Kubernetes manifests: each overlay renders (`kubectl kustomize`), every object is valid Kubernetes
1.32 (kubernetes-validate, strict: no unknown fields), and what a reviewer checks by hand holds — probes,
limits, a locked-down pod, no secret in git, settings that start every process, Jobs for the
migrations, references that resolve. The network: test_kubernetes_network.py.
"""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from mercato.deploy.processes import CALLS
from mercato.deploy.render import kubernetes_files
from tests.deploy.manifests import (
    KUBERNETES_VERSION,
    OVERLAYS,
    PROCESSES,
    ROOT,
    SECRET_LIKE,
    SERVICES,
    TOPOLOGY,
    TREE,
    of_kind,
    policies_of,
    render,
    selects,
    workloads,
)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return render()


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
            reaching = {p["metadata"]["name"] for p in policies_of(docs, pod["metadata"]["labels"])}
            assert {f"{other}-database" for other in databases} & reaching == {f"{name}-database"}
        setup = jobs["broker-setup"]["spec"]["template"]["spec"]["containers"][0]
        assert setup["command"] == ["mercato", "broker", "setup"]
        assert [e["name"] for e in setup["env"]] == ["MERCATO_BROKER_URL"]


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


def test_every_reference_between_objects_resolves(rendered):
    """Services select pods and name their ports, autoscalers and budgets their workloads, policies select
    pods that exist, pods the ConfigMaps that exist: nothing points at a typo."""
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        pods = {name: w["spec"]["template"] for name, w in workloads(docs).items()}
        labels = [pod["metadata"]["labels"] for pod in pods.values()]
        configmaps = set(of_kind(docs, "ConfigMap"))
        for name, service in of_kind(docs, "Service").items():
            selected = [
                p
                for p in pods.values()
                if selects(
                    {"spec": {"podSelector": {"matchLabels": service["spec"]["selector"]}}},
                    p["metadata"]["labels"],
                )
            ]
            assert len(selected) == 1, f"{overlay}: Service {name}"
            ports = {port["name"] for port in selected[0]["spec"]["containers"][0]["ports"]}
            assert {port["targetPort"] for port in service["spec"]["ports"]} <= ports, name
        for name, hpa in of_kind(docs, "HorizontalPodAutoscaler").items():
            assert hpa["spec"]["scaleTargetRef"]["name"] in of_kind(
                docs, hpa["spec"]["scaleTargetRef"]["kind"]
            ), name
        for name, pdb in of_kind(docs, "PodDisruptionBudget").items():
            budgeted = {"spec": {"podSelector": pdb["spec"]["selector"]}}
            assert [n for n, p in pods.items() if selects(budgeted, p["metadata"]["labels"])] == [name]
        for name, policy in of_kind(docs, "NetworkPolicy").items():
            assert any(selects(policy, pod) for pod in labels), (
                f"{overlay}: NetworkPolicy {name} selects no pod"
            )
        for name, pod in pods.items():
            for source in pod["spec"]["containers"][0].get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps, name
            for volume in pod["spec"]["volumes"]:
                if "configMap" in volume:
                    assert volume["configMap"]["name"] in configmaps, name
