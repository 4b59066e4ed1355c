"""The whole local topology in one place: which processes `mercato up` runs, on which ports, at which URLs.

Everything else (service settings defaults, the Envoy config, the supervisor, the end-to-end tests)
reads ports and URLs from here. `MERCATO_PORT_OFFSET` shifts every port at once, so a test run can
start a second, isolated platform next to a developer's running one.

Ports stay clear of the machine-wide services a developer may already run (PostgreSQL 5432,
RabbitMQ 5672, NATS 4222, Redis 6379).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
# Not replicated by `--replicas`: stateful beyond its database (search's Tantivy index is a directory;
# two processes would split its subscription's events and fight over the index).
SINGLE_PROCESS = frozenset({"search"})


@dataclass(frozen=True)
class Service:
    """A process behind the gateway on a private port: a business service (one process, one database) or
    the mobile API (one process, no database)."""

    name: str
    port: int
    app: str  # import path of the ASGI application

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass(frozen=True)
class Topology:
    offset: int = 0
    # `mercato up --replicas N`: N processes of every service (but search) and the mobile API. Each
    # replica listens on its own port (`replica_ports`); the service's own port stays everyone's address.
    replicas: int = 1

    @classmethod
    def from_env(cls) -> Topology:
        return cls(
            offset=int(os.environ.get("MERCATO_PORT_OFFSET", "0")),
            replicas=int(os.environ.get("MERCATO_REPLICAS", "1")),
        )

    def replica_ports(self, name: str) -> list[int]:
        """Where the replicas of `name` listen: its own port when there is one replica; with more, the
        port plus 100, 200, … (the service's own port is then the gateway's balanced door to them).
        Search is always one process: its index is its own (a directory), fed by one subscription."""
        port = self.service(name).port
        if self.replicas == 1 or name in SINGLE_PROCESS:
            return [port]
        return [port + 100 * k for k in range(1, self.replicas + 1)]

    def _port(self, base: int) -> int:
        return base + self.offset

    # --- the public door ---------------------------------------------------------------------
    @property
    def gateway_port(self) -> int:
        return self._port(8080)

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    @property
    def envoy_admin_port(self) -> int:
        return self._port(9901)

    # --- the web storefront (a client of the gateway, like a browser) ----------------------------
    @property
    def storefront_port(self) -> int:
        return self._port(8000)

    @property
    def storefront_url(self) -> str:
        return f"http://{HOST}:{self.storefront_port}"

    # --- the admin app (back office; a client of the gateway's admin routes) ------------------------
    @property
    def admin_port(self) -> int:
        return self._port(8001)

    @property
    def admin_url(self) -> str:
        # "localhost", not 127.0.0.1: browsers keep cookies per host name, not per port, so a different
        # host name is what keeps the back office's cookies and the shop's apart on one machine.
        return f"http://localhost:{self.admin_port}"

    # --- private services --------------------------------------------------------------------
    @property
    def services(self) -> dict[str, Service]:
        return {
            "customers": Service("customers", self._port(8101), "mercato.services.customers.main:app"),
            "catalog": Service("catalog", self._port(8102), "mercato.services.catalog.main:app"),
            "orders": Service("orders", self._port(8103), "mercato.services.orders.main:app"),
            "payments": Service("payments", self._port(8104), "mercato.services.payments.main:app"),
            "notifications": Service(
                "notifications", self._port(8105), "mercato.services.notifications.main:app"
            ),
            "search": Service("search", self._port(8106), "mercato.services.search.main:app"),
        }

    @property
    def mobile_api(self) -> Service:
        """The mobile API: a backend-for-frontend that composes the services' answers for the apps. It has
        no database, so it is not one of `services` (which are migrated, and get a database each)."""
        return Service("mobile-api", self._port(8107), "mercato.services.mobile_api.main:app")

    @property
    def upstreams(self) -> dict[str, Service]:
        """Everything the gateway routes to: the services and the mobile API."""
        return {**self.services, "mobile-api": self.mobile_api}

    def service(self, name: str) -> Service:
        """A service or the mobile API by name (`mercato serve <name>`)."""
        return self.upstreams[name]

    # --- the event broker (embedded NATS JetStream from pip; clear of a system NATS on 4222) ------
    @property
    def broker_port(self) -> int:
        return self._port(4322)

    @property
    def broker_url(self) -> str:
        return f"nats://{HOST}:{self.broker_port}"

    @property
    def broker_monitor_port(self) -> int:
        return self._port(8322)

    def broker_cluster(self, nodes: int = 3) -> list[tuple[int, int, int]]:
        """The scale-out profile's NATS JetStream cluster: (client, cluster route, monitor) port of each
        node; the first node is the single broker's ports."""
        return [(self._port(4322 + i), self._port(6322 + i), self._port(8322 + i)) for i in range(nodes)]

    # --- local stand-ins for external providers (same wire protocol as the real ones) ----------
    @property
    def payment_sandbox_port(self) -> int:
        """The Stripe-compatible payment provider sandbox (not behind the gateway, like Stripe)."""
        return self._port(8110)

    @property
    def payment_sandbox_url(self) -> str:
        return f"http://{HOST}:{self.payment_sandbox_port}"

    @property
    def sms_sandbox_port(self) -> int:
        """The Twilio-compatible SMS provider sandbox (the official twilio SDK talks to it)."""
        return self._port(8111)

    @property
    def sms_sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sms_sandbox_port}"

    @property
    def mail_sink_smtp_port(self) -> int:
        """The SMTP sink that accepts every e-mail and keeps it in a Maildir under var/mail."""
        return self._port(8125)

    @property
    def mail_sink_web_port(self) -> int:
        """A small web view (and JSON API) of the mails the sink received."""
        return self._port(8126)

    @property
    def mail_sink_web_url(self) -> str:
        return f"http://{HOST}:{self.mail_sink_web_port}"

    @property
    def push_sandbox_apns_port(self) -> int:
        """The APNs stand-in: HTTP/2 over TLS (a self-signed certificate under var/keys), as Apple's
        api.push.apple.com:443 speaks it; aioapns connects to it."""
        return self._port(8127)

    @property
    def push_sandbox_port(self) -> int:
        """The FCM stand-in (Google's OAuth2 token endpoint and FCM HTTP v1's send), plus the web view
        and JSON of every push both stand-ins received."""
        return self._port(8128)

    @property
    def push_sandbox_url(self) -> str:
        return f"http://{HOST}:{self.push_sandbox_port}"


def var_dir() -> Path:
    """Where the embedded profile keeps its state: SQLite files, keys, images, logs."""
    return Path(os.environ.get("MERCATO_VAR_DIR", "var")).resolve()
