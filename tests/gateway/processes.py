"""The real Envoy, run from the generated config, and a stdlib HTTP server standing in for the services.

The stand-in listens on the topology ports of the services and the mobile API. It serves the JWKS it
is given (per path, as customers does: the shoppers' public one and the staff realm's private one) and
echoes what it received, so a test can see exactly what crossed the gateway.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.gateway.envoy import envoy_command, write_config
from mercato.gateway.settings import GatewaySettings
from mercato.topology import HOST, Topology

IDENTITY = "x-mercato-customer-id"
ISSUED_AT = "x-mercato-token-issued-at"
PROBLEM_JSON = "application/problem+json"


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn does
    disable_nagle_algorithm = True  # headers and body are separate writes; don't wait 40 ms for an ACK
    jwks_by_path: dict[str, dict[str, Any]] = {}

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        if self.path in self.jwks_by_path:
            return self._reply(200, json.dumps(self.jwks_by_path[self.path]).encode(), "application/json")
        if self.path.endswith("/missing"):  # the service's own error must reach the client as sent
            return self._reply(404, b"the service says: no such thing", "text/plain")
        echo = {
            "service_port": self.server.server_address[1],
            "path": self.path,
            "customer_ids": self.headers.get_all(IDENTITY) or [],
            "underscore_ids": self.headers.get_all(IDENTITY.replace("-", "_")) or [],
            "issued_at": self.headers.get_all(ISSUED_AT) or [],
            "staff_claims": self.headers.get_all(STAFF_CLAIMS_HEADER) or [],
            "underscore_staff_claims": self.headers.get_all(STAFF_CLAIMS_HEADER.replace("-", "_")) or [],
            "forwarded_for": self.headers.get_all("x-forwarded-for") or [],
            "request_id": self.headers.get("x-request-id"),
            "authorization": self.headers.get("authorization"),
            "body_bytes": len(body),
        }
        return self._reply(200, json.dumps(echo).encode(), "application/json")

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass


def upstream(*, jwks_by_path: dict[str, dict[str, Any]]) -> type[Upstream]:
    """An `Upstream` handler class that serves these JWKS documents at these paths."""
    return type("Upstream", (Upstream,), {"jwks_by_path": jwks_by_path})


@dataclass
class Gateway:
    url: str
    log: Path

    def get(self, path: str, token: str | None = None, **headers: str) -> httpx.Response:
        if token:
            headers["authorization"] = f"Bearer {token}"
        return httpx.get(self.url + path, headers=headers, timeout=5)


def assert_port_free(port: int) -> None:
    """A leftover Envoy on our admin port would answer /ready for us: refuse to start instead."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise RuntimeError(f"port {port} is already in use; is another gateway running?") from error


def start_envoy(topology: Topology, settings: GatewaySettings, workdir: Path) -> subprocess.Popen[bytes]:
    for port in (topology.gateway_port, topology.envoy_admin_port):
        assert_port_free(port)
    config = write_config(topology, settings, workdir / "envoy.json")
    with (workdir / "envoy.log").open("wb") as log:
        proc = subprocess.Popen(envoy_command(config), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, (workdir / "envoy.log").read_text()
        try:
            if httpx.get(f"http://{HOST}:{topology.envoy_admin_port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError("envoy did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_gateway(
    *,
    topology: Topology,
    settings: GatewaySettings,
    workdir: Path,
    handler: type[Upstream],
    ready: Callable[[Gateway], bool],
) -> Iterator[Gateway]:
    """Envoy first, then the stand-in on every service port (as `mercato up` may start them), then
    wait until `ready` holds: the JWKS fetches at Envoy's start failed, so they must be retried."""
    envoy = start_envoy(topology, settings, workdir)
    servers: list[ThreadingHTTPServer] = []
    try:  # everything started is stopped, even if a later step fails (no orphaned Envoy)
        for service in topology.upstreams.values():
            servers.append(ThreadingHTTPServer((HOST, service.port), handler))
            threading.Thread(target=servers[-1].serve_forever, daemon=True).start()
        gateway = Gateway(topology.gateway_url, workdir / "envoy.log")
        deadline = time.monotonic() + 10
        while not ready(gateway):
            assert time.monotonic() < deadline, "JWKS never fetched:\n" + gateway.log.read_text()
            time.sleep(0.1)
        yield gateway
    finally:
        stop(envoy)
        for server in servers:
            server.shutdown()
            server.server_close()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["status"] == status  # a JSON number, not "401"
    assert problem["type"].startswith("https://") and problem["title"] and problem["detail"]
    assert response.headers["x-request-id"]
    return problem
