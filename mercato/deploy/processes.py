"""What runs in a cluster, per process: its port (from the topology), what it calls, what it reaches outside
the cluster, the secrets it reads and how big it is. The manifests (`mercato.deploy.kubernetes`) and the
network policies (`mercato.deploy.network`) are written from this one table.

The callees are the services named by the process's `*_url` settings (tests/deploy checks that they
agree); the secrets are the settings a process refuses to run in production without.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mercato.topology import Topology

IMAGE = "localhost/mercato:latest"
UID = 10001
VAR_DIR = "/var/lib/mercato"  # MERCATO_VAR_DIR: an emptyDir (search's index, development key files)
DATABASE_PORT = 5432
BROKER_PORTS = (4222,)  # NATS; RabbitMQ 5671/5672 or Kafka 9092/9093: patch the `broker` policy
# Public networks only (providers: Stripe, Twilio, APNs, FCM, S3, an SMTP relay), never the cluster's.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")


@dataclass(frozen=True)
class SecretRef:
    env: str  # the variable the process reads
    secret: str
    key: str
    optional: bool = False


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


GATEWAY_CPUS = 2  # Envoy's worker threads, and its CPU limit
SERVICE_SIZE = Resources("250m", "256Mi", "1", "512Mi")


@dataclass(frozen=True)
class Process:
    name: str  # Deployment, Service and pod label (`app.kubernetes.io/component`)
    port: int
    command: tuple[str, ...]
    ready_path: str
    live_path: str
    calls: tuple[str, ...] = ()  # services it calls directly (never through the gateway)
    database: bool = False
    broker: bool = False
    internet_ports: tuple[int, ...] = ()  # providers on the public internet it calls, by port
    secrets: tuple[SecretRef, ...] = ()
    size: Resources = SERVICE_SIZE
    public: bool = False  # reachable from outside the cluster (a LoadBalancer Service `<name>-public`)
    extra_ports: dict[str, int] = field(default_factory=dict)  # name → port (Envoy's admin)
    # False: one replica with a volume of its own, no autoscaler or disruption budget (SINGLE_REPLICA).
    scalable: bool = True
    # Secrets mounted as files (path → Secret), optional: push credentials are key files, not values.
    secret_files: dict[str, str] = field(default_factory=dict)
    metrics_port: int | None = None  # where Prometheus scrapes (default: the process's port)
    metrics_path: str | None = "/metrics"  # None: nothing to scrape

    @property
    def probe_port(self) -> int:
        """Where the kubelet asks: Envoy answers on its admin port, everyone else on their own."""
        return self.extra_ports.get("admin", self.port)


# The services each service calls: its settings' `<service>_url` fields.
CALLS: dict[str, tuple[str, ...]] = {
    "customers": ("notifications",),
    "catalog": (),
    "orders": ("catalog", "payments", "notifications"),
    "payments": (),
    "notifications": ("orders", "payments"),
    "search": ("catalog",),
    "mobile-api": ("catalog", "search", "orders", "customers"),
}
HTTPS = 443
SMTP_SUBMISSION = (587, 465)
INTERNET: dict[str, tuple[int, ...]] = {
    "catalog": (HTTPS,),  # S3 (product images)
    "orders": (HTTPS,),  # S3 (invoices)
    "payments": (HTTPS,),  # Stripe
    "notifications": (HTTPS, *SMTP_SUBMISSION),  # Twilio, APNs, FCM; the SMTP relay
}
# Search keeps its index on the pod, fed by the service's one durable subscription: two replicas would
# share that subscription's events, and each index would miss the other's half. One replica (a
# StatefulSet, its index on a volume that outlives the pod) until each replica subscribes on its own.
SINGLE_REPLICA = ("search",)
PUSH_DIR = "/etc/mercato/push"  # APNs' .p8 key and FCM's service account (settings.env names the files)
PERSONAL_DATA = ("customers", "orders", "payments", "notifications")
BLIND_INDEX = ("customers", "orders")
S3_USERS = ("catalog", "orders")


def _prefix(name: str) -> str:
    return f"MERCATO_{name.upper().replace('-', '_')}_"


def service_secrets(name: str) -> tuple[SecretRef, ...]:
    """The Secret `mercato-<name>` (and `mercato-broker`) a service reads, key by key."""
    secret, prefix = f"mercato-{name}", _prefix(name)
    if name == "mobile-api":
        return (SecretRef(prefix + "CURSOR_SECRET", secret, "cursor-secret", optional=True),)
    refs = [
        SecretRef(prefix + "DATABASE_URL", secret, "database-url"),
        SecretRef(prefix + "CURSOR_SECRET", secret, "cursor-secret"),
        SecretRef("MERCATO_BROKER_URL", "mercato-broker", "url"),
    ]
    if name in PERSONAL_DATA:
        refs.append(SecretRef(prefix + "DATA_KEYS", secret, "data-keys"))
    if name in BLIND_INDEX:
        refs.append(SecretRef(prefix + "BLIND_INDEX_KEY", secret, "blind-index-key"))
    refs += {
        "customers": [
            SecretRef(prefix + "SIGNING_KEY_PEM", secret, "signing-key-pem"),
            SecretRef(prefix + "STAFF_SIGNING_KEY_PEM", secret, "staff-signing-key-pem"),
        ],
        "orders": [SecretRef(prefix + "ORDER_LINK_SECRET", secret, "order-link-secret")],
        "payments": [
            SecretRef(prefix + "STRIPE_API_KEY", secret, "stripe-api-key"),
            SecretRef(prefix + "STRIPE_WEBHOOK_SECRET", secret, "stripe-webhook-secret"),
        ],
        "notifications": [
            SecretRef(prefix + "TWILIO_ACCOUNT_SID", secret, "twilio-account-sid", optional=True),
            SecretRef(prefix + "TWILIO_AUTH_TOKEN", secret, "twilio-auth-token", optional=True),
            SecretRef(prefix + "SMTP_USERNAME", secret, "smtp-username", optional=True),
            SecretRef(prefix + "SMTP_PASSWORD", secret, "smtp-password", optional=True),
        ],
    }.get(name, [])
    if name in S3_USERS:  # boto3's own variables (or none: a workload identity of the cloud's)
        refs += [
            SecretRef("AWS_ACCESS_KEY_ID", secret, "aws-access-key-id", optional=True),
            SecretRef("AWS_SECRET_ACCESS_KEY", secret, "aws-secret-access-key", optional=True),
        ]
    return tuple(refs)


def processes(topology: Topology) -> dict[str, Process]:
    """Every long-running process of a cluster, by name: the services, the gateway and the front ends."""
    found: dict[str, Process] = {}
    for name, service in topology.upstreams.items():
        has_database = name in topology.services
        found[name] = Process(
            name=name,
            port=service.port,
            command=("mercato", "serve", name),
            ready_path="/readyz",
            live_path="/healthz",
            calls=CALLS[name],
            database=has_database,
            broker=has_database,  # every service with a database relays its outbox or consumes
            internet_ports=INTERNET.get(name, ()),
            secrets=service_secrets(name),
            size=Resources("250m", "384Mi", "1", "768Mi") if name == "customers" else SERVICE_SIZE,
            secret_files={PUSH_DIR: "mercato-notifications-push"} if name == "notifications" else {},
            scalable=name not in SINGLE_REPLICA,
        )
    found["gateway"] = Process(
        name="gateway",
        port=topology.gateway_port,
        # As many workers as its CPU limit (by default Envoy starts one per CPU of the node).
        command=(
            "envoy",
            "-c",
            "/etc/envoy/envoy.json",
            "--disable-hot-restart",
            "--log-level",
            "warn",
            "--concurrency",
            str(GATEWAY_CPUS),
        ),
        ready_path="/ready",
        live_path="/server_info",
        calls=tuple(topology.upstreams),
        size=Resources("250m", "128Mi", str(GATEWAY_CPUS), "512Mi"),
        public=True,
        extra_ports={"admin": topology.envoy_admin_port},
        metrics_port=topology.envoy_admin_port,
        metrics_path="/stats/prometheus",
    )
    for name, port in (("storefront", topology.storefront_port), ("admin", topology.admin_port)):
        found[name] = Process(
            name=name,
            port=port,
            command=("python", "-m", f"mercato.{name}"),
            ready_path="/healthz",
            live_path="/healthz",
            calls=("gateway",),
            secrets=(SecretRef(_prefix(name) + "SESSION_SECRET", f"mercato-{name}", "session-secret"),),
            size=Resources("100m", "192Mi", "1", "512Mi"),
            public=True,
            metrics_path=None,
        )
    return found
