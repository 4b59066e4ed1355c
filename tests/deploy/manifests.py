"""The rendered Kubernetes overlays, and the helpers tests/deploy/test_kubernetes*.py read them with.

No control plane runs here: the manifests are rendered and validated, not applied (docs/deploy.md).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from mercato.deploy.processes import processes
from mercato.deploy.render import KUBERNETES_DIR
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


@functools.cache
def render() -> dict[str, list[dict]]:
    """Each overlay and its migrations, as `kubectl kustomize` renders them (once per test run)."""
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


def selects(policy: dict, labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def policies_of(docs: list[dict], labels: dict[str, str]) -> list[dict]:
    return [p for p in of_kind(docs, "NetworkPolicy").values() if selects(p, labels)]


def overlay_network(overlay: str) -> dict[str, str]:
    return yaml.safe_load((TREE / "overlays" / overlay / "common" / "network.yaml").read_text())["data"]
