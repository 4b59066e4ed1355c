"""The Kustomize base's workloads, written from the topology and `mercato.deploy.processes`: per process a
Deployment, its Services, a PodDisruptionBudget and a HorizontalPodAutoscaler; the migrations and the
broker setup as Jobs. `mercato deploy kubernetes` writes them under deploy/kubernetes/; a test checks
that the committed files are what it writes now.

Every pod runs the one image as uid 10001 with a read-only root filesystem, no capabilities, the
runtime's seccomp profile and no service-account token; /tmp and MERCATO_VAR_DIR are emptyDirs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mercato.deploy.processes import IMAGE, UID, VAR_DIR, Process, SecretRef

Manifest = dict[str, Any]
PART_OF = "mercato"
SETTINGS_CONFIGMAP = "mercato-settings"
ENVOY_CONFIGMAP = "gateway-envoy"
# Labels the network policies select on (mercato.deploy.network).
DATABASE_LABEL = "mercato/database"  # = the service whose database the pod opens
BROKER_LABEL = "mercato/broker"  # "true": the pod connects to the broker
MIGRATION_HOOK = {
    # Argo CD runs these before syncing the workloads, after deleting the previous run's Job.
    "argocd.argoproj.io/hook": "PreSync",
    "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
}


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def component(process: Process) -> str:
    if process.name == "gateway":
        return "gateway"
    return "frontend" if process.name in ("storefront", "admin") else "service"


def _network_labels(process: Process) -> dict[str, str]:
    found = {}
    if process.database:
        found[DATABASE_LABEL] = process.name
    if process.broker:
        found[BROKER_LABEL] = "true"
    return found


def _env(secrets: tuple[SecretRef, ...]) -> list[Manifest]:
    return [
        {
            "name": ref.env,
            "valueFrom": {
                "secretKeyRef": {
                    "name": ref.secret,
                    "key": ref.key,
                    **({"optional": True} if ref.optional else {}),
                }
            },
        }
        for ref in secrets
    ]


def _container_security() -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _pod_security() -> Manifest:
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _volumes(var_limit: str) -> tuple[list[Manifest], list[Manifest]]:
    volumes = [
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": "var", "emptyDir": {"sizeLimit": var_limit}},
    ]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "var", "mountPath": VAR_DIR}]  # noqa: S108
    return volumes, mounts


def _probe(path: str, port: int, *, period: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _container(process: Process, command: list[str], mounts: list[Manifest]) -> Manifest:
    size = process.size
    ports = [{"name": "http", "containerPort": process.port, "protocol": "TCP"}]
    ports += [
        {"name": name, "containerPort": port, "protocol": "TCP"} for name, port in process.extra_ports.items()
    ]
    return {
        "name": process.name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": ports,
        "envFrom": [{"configMapRef": {"name": SETTINGS_CONFIGMAP}}],
        "env": _env(process.secrets),
        "startupProbe": _probe(process.live_path, process.probe_port, period=2, failures=30),
        "readinessProbe": _probe(process.ready_path, process.probe_port, period=5, failures=2),
        "livenessProbe": _probe(process.live_path, process.probe_port, period=10, failures=3),
        "resources": {
            "requests": {"cpu": size.cpu_request, "memory": size.memory_request},
            "limits": {"cpu": size.cpu_limit, "memory": size.memory_limit},
        },
        "securityContext": _container_security(),
        "volumeMounts": mounts,
    }


def deployment(process: Process) -> Manifest:
    volumes, mounts = _volumes("1Gi" if process.name == "search" else "256Mi")
    for number, (path, secret) in enumerate(process.secret_files.items()):
        volumes.append(
            {
                "name": f"secret-{number}",
                "secret": {"secretName": secret, "optional": True, "defaultMode": 0o440},
            }
        )
        mounts.append({"name": f"secret-{number}", "mountPath": path, "readOnly": True})
    if process.name == "gateway":
        volumes.append({"name": "envoy", "configMap": {"name": ENVOY_CONFIGMAP}})
        mounts.append({"name": "envoy", "mountPath": "/etc/envoy", "readOnly": True})
    annotations = {}
    if process.metrics_path:
        annotations = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(process.metrics_port or process.port),
            "prometheus.io/path": process.metrics_path,
        }
    pod_labels = labels(process.name, component(process)) | _network_labels(process)
    manifest: Manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": process.name, "labels": labels(process.name, component(process))},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(process.name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": pod_labels, **({"annotations": annotations} if annotations else {})},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": _pod_security(),
                    # Envoy stops sending requests once /readyz fails; the service ends those in flight.
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container(process, list(process.command), mounts)],
                    "volumes": volumes,
                },
            },
        },
    }
    return manifest if process.scalable else _stateful(manifest)


def _stateful(manifest: Manifest) -> Manifest:
    """One pod whose MERCATO_VAR_DIR (search's index) is a volume of its own that outlives it: a restarted
    search resumes its subscription where it left off, with the index that subscription built."""
    spec = manifest["spec"]
    del spec["strategy"]
    spec["replicas"] = 1
    spec["serviceName"] = f"{manifest['metadata']['name']}-pods"
    spec["template"]["spec"]["volumes"] = [
        v for v in spec["template"]["spec"]["volumes"] if v["name"] != "var"
    ]
    spec["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "var"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
        }
    ]
    return {**manifest, "kind": "StatefulSet"}


def services(process: Process) -> list[Manifest]:
    """`<name>`: the address other processes call (ClusterIP, the topology's port). For the services,
    `<name>-pods` too: headless, so that the gateway's Envoy resolves every ready pod and balances,
    health-checks and ejects them itself. For the public processes, `<name>-public`: a LoadBalancer that
    keeps the client's address (`externalTrafficPolicy: Local`), which the gateway's rate limits and
    admin allowlist key on."""

    def service(name: str, spec: Manifest) -> Manifest:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels(process.name, component(process))},
            "spec": {"selector": selector(process.name), **spec},
        }

    http = {"name": "http", "port": process.port, "targetPort": "http", "protocol": "TCP"}
    found = [service(process.name, {"type": "ClusterIP", "ports": [http]})]
    if component(process) == "service":
        found.append(service(f"{process.name}-pods", {"clusterIP": "None", "ports": [http]}))
    if process.public:
        public = {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
        found.append(
            service(
                f"{process.name}-public",
                {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [public]},
            )
        )
    return found


def disruption_budget(process: Process) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": process.name, "labels": labels(process.name, component(process))},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(process.name)}},
    }


def autoscaler(process: Process) -> Manifest:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": process.name, "labels": labels(process.name, component(process))},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": process.name},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
            # Scale in slowly: a replica that leaves takes its connections (and search its index) with it.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def workload(process: Process) -> list[Manifest]:
    if not process.scalable:
        return [deployment(process), *services(process)]
    return [deployment(process), *services(process), disruption_budget(process), autoscaler(process)]


def job(name: str, command: list[str], process: Process, pod_labels: dict[str, str]) -> Manifest:
    """A run-to-completion pod of the image, with the settings and secrets of `process`."""
    volumes, mounts = _volumes("64Mi")
    container = _container(process, command, mounts)
    container["name"] = name
    for key in ("ports", "startupProbe", "readinessProbe", "livenessProbe"):
        del container[key]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels(name, "migration"), "annotations": MIGRATION_HOOK},
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": 1800,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels(name, "migration") | pod_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": _pod_security(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def migration_jobs(processes: dict[str, Process]) -> list[Manifest]:
    """`migrate-<service>` per service with a database (its own role, its own database), and
    `broker-setup` (the stream or exchange and every durable subscription)."""
    found = [
        job(f"migrate-{p.name}", ["mercato", "migrate", p.name], p, {DATABASE_LABEL: p.name})
        for p in processes.values()
        if p.database
    ]
    brokered = next(p for p in processes.values() if p.broker)
    broker_url = tuple(ref for ref in brokered.secrets if ref.env == "MERCATO_BROKER_URL")
    setup = replace(brokered, secrets=broker_url)
    found.append(job("broker-setup", ["mercato", "broker", "setup"], setup, {BROKER_LABEL: "true"}))
    return found
