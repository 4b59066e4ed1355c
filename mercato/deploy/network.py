"""The private network, made real with NetworkPolicies: everything is denied but what the architecture says.

* Ingress: the gateway and the storefront from anywhere, the admin app from the back office's network
  (`admin-cidr`), each service from the gateway and from the services that call it; Prometheus (the
  `monitoring` namespace) on the metrics ports.
* Egress: DNS; each service to its own database (`database-cidr-<service>`) and to the broker
  (`broker-cidr`), to the services it calls, and to the public internet only for its providers' ports.

The CIDRs are an overlay's: `components/network-cidrs` copies them from the overlay's `mercato-network`
ConfigMap into the policies (base values are TEST-NET placeholders that reach nothing).
"""

from __future__ import annotations

from mercato.deploy.kubernetes import BROKER_LABEL, DATABASE_LABEL, Manifest, labels, selector
from mercato.deploy.processes import BROKER_PORTS, DATABASE_PORT, PRIVATE_NETWORKS, Process

NETWORK_CONFIGMAP = "mercato-network"
PLACEHOLDER_CIDR = "192.0.2.0/24"  # TEST-NET-1 (RFC 5737): overlays set the real ones
MONITORING_NAMESPACE = "monitoring"
ANYWHERE = "0.0.0.0/0"


def policy(
    name: str, pod_selector: Manifest, *, ingress: list | None = None, egress: list | None = None
) -> Manifest:
    spec: Manifest = {"podSelector": pod_selector, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "mercato"}},
        "spec": spec,
    }


def _tcp(*ports: int) -> list[Manifest]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _pods(name: str) -> Manifest:
    return {"podSelector": {"matchLabels": selector(name)}}


def common_policies(processes: dict[str, Process]) -> list[Manifest]:
    """What every pod (the Jobs' too) lives under: deny all, resolve names, reach a database or the broker."""
    dns = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    found = [
        policy("default-deny", {}, ingress=[], egress=[]),
        policy("dns", {}, egress=[dns]),
        policy(
            "broker",
            {"matchLabels": {BROKER_LABEL: "true"}},
            egress=[{"to": [{"ipBlock": {"cidr": PLACEHOLDER_CIDR}}], "ports": _tcp(*BROKER_PORTS)}],
        ),
    ]
    found += [
        policy(
            f"{p.name}-database",
            {"matchLabels": {DATABASE_LABEL: p.name}},
            egress=[{"to": [{"ipBlock": {"cidr": PLACEHOLDER_CIDR}}], "ports": _tcp(DATABASE_PORT)}],
        )
        for p in processes.values()
        if p.database
    ]
    return found


def process_policy(process: Process, processes: dict[str, Process]) -> Manifest:
    """Who may reach `process`, and which other pods and public ports it may reach."""
    ingress: list[Manifest] = []
    if process.name == "admin":  # first: components/network-cidrs sets its CIDR
        ingress.append({"from": [{"ipBlock": {"cidr": PLACEHOLDER_CIDR}}], "ports": _tcp(process.port)})
    elif process.public:
        ingress.append({"from": [{"ipBlock": {"cidr": ANYWHERE}}], "ports": _tcp(process.port)})
    callers = sorted(name for name, p in processes.items() if process.name in p.calls)
    if callers:
        ingress.append({"from": [_pods(name) for name in callers], "ports": _tcp(process.port)})
    if process.metrics_path:
        monitoring = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}
        }
        ingress.append({"from": [monitoring], "ports": _tcp(process.metrics_port or process.port)})
    egress: list[Manifest] = [
        {"to": [_pods(callee)], "ports": _tcp(processes[callee].port)} for callee in process.calls
    ]
    if process.internet_ports:
        public = {"ipBlock": {"cidr": ANYWHERE, "except": list(PRIVATE_NETWORKS)}}
        egress.append({"to": [public], "ports": _tcp(*process.internet_ports)})
    manifest = policy(process.name, {"matchLabels": selector(process.name)}, ingress=ingress, egress=egress)
    manifest["metadata"]["labels"] = labels(process.name, "network")
    return manifest


def cidr_replacements(processes: dict[str, Process]) -> Manifest:
    """The Kustomize component that copies the overlay's CIDRs into the policies."""

    def replacement(key: str, target: str, path: str) -> Manifest:
        return {
            "source": {"kind": "ConfigMap", "name": NETWORK_CONFIGMAP, "fieldPath": f"data.{key}"},
            "targets": [{"select": {"kind": "NetworkPolicy", "name": target}, "fieldPaths": [path]}],
        }

    egress_cidr = "spec.egress.0.to.0.ipBlock.cidr"
    found = [replacement("broker-cidr", "broker", egress_cidr)]
    found += [
        replacement(f"database-cidr-{p.name}", f"{p.name}-database", egress_cidr)
        for p in processes.values()
        if p.database
    ]
    found.append(replacement("admin-cidr", "admin", "spec.ingress.0.from.0.ipBlock.cidr"))
    return {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "replacements": found}
