"""Traces end to end: the platform exports its spans over OTLP/HTTP to a receiver this test runs — every
service process and Envoy — and one checkout through the gateway is one trace, from the gateway through
orders, catalog, payments and its provider call, on to notifications' handling of OrderPlaced
(which writes the confirmation e-mail)."""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from mercato.platform.ids import new_id
from mercato.topology import Topology
from tests.platforms import Platform, platform_env, start_platform, stop_platform

OFFSET = 6400  # tests/platforms.py lists the offsets in use
SERVER, CLIENT, PRODUCER, CONSUMER = (
    SpanProto.SPAN_KIND_SERVER,
    SpanProto.SPAN_KIND_CLIENT,
    SpanProto.SPAN_KIND_PRODUCER,
    SpanProto.SPAN_KIND_CONSUMER,
)


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    links: tuple[str, ...]
    attributes: dict = field(hash=False, compare=False)


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: `POST /v1/traces` with an ExportTraceServiceRequest (protobuf)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Export)
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        Span(
                            service=resource.get("service.name", ""),
                            name=span.name,
                            kind=span.kind,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            links=tuple(link.span_id.hex() for link in span.links),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self.lock:
            self.spans.extend(received)


def _value(value):
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


class _Export(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self._body()
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces" or "protobuf" not in self.headers.get("Content-Type", ""):
            self.send_error(415 if self.path == "/v1/traces" else 404)
            return
        self.server.add(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", ""):  # Envoy sends chunks
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return body

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def traced_platform(tmp_path_factory, receiver) -> Iterator[Platform]:
    var_dir = tmp_path_factory.mktemp("traced-platform")
    topology = Topology(offset=OFFSET)
    env = platform_env(var_dir, topology) | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second (default 5 s)
        "MERCATO_GATEWAY_OTLP_ENDPOINT": receiver.endpoint,
    }
    platform = start_platform(var_dir, topology, env)
    try:
        yield platform
    finally:
        stop_platform(platform)


def _checkout(platform: Platform) -> dict:
    with httpx.Client(base_url=platform.gateway, timeout=10) as gateway:
        email, password = f"traced-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
        gateway.post("/api/v1/customers", json={"email": email, "password": password, "name": "Traced"})
        token = gateway.post("/api/v1/auth/token", json={"email": email, "password": password}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
        platform.set_stock(sku, 5)
        assert gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=auth).is_success
        response = gateway.post(
            "/api/v1/checkout",
            json={
                "shipping_address": {
                    "name": "Ada Lovelace",
                    "line1": "1 Main St",
                    "city": "Berlin",
                    "postal_code": "10115",
                    "country": "DE",
                },
                "payment_method": platform.card(),
            },
            headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
        )
    assert response.status_code == 201, response.text
    return response.json()


class Trace:
    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans
        self.by_id = {span.span_id: span for span in spans}

    def one(self, service: str, kind: int, name: str) -> Span:
        found = [s for s in self.spans if (s.service, s.kind, s.name) == (f"mercato-{service}", kind, name)]
        assert len(found) == 1, (service, kind, name, self.names())
        return found[0]

    def parent(self, span: Span) -> Span:
        assert span.parent_id in self.by_id, (span.name, "has no parent in the trace")
        return self.by_id[span.parent_id]

    def descends(self, span: Span, ancestor: Span) -> bool:
        while span.parent_id in self.by_id:
            span = self.by_id[span.parent_id]
            if span == ancestor:
                return True
        return False

    def names(self) -> list[tuple[str, str]]:
        return sorted((s.service, s.name) for s in self.spans)


def _wait_for(receiver: Receiver, found, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        with receiver.lock:
            spans = list(receiver.spans)
        result = found(spans)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_one_checkout_is_one_trace_from_the_gateway_to_the_order_confirmation(traced_platform, receiver):
    order = _checkout(traced_platform)

    def checkout_trace(spans: list[Span]) -> Trace | None:
        servers = [s for s in spans if s.service == "mercato-orders" and s.name == "POST /api/v1/checkout"]
        if not servers:
            return None
        trace = Trace([s for s in spans if s.trace_id == servers[-1].trace_id])
        services = {s.service for s in trace.spans}
        consumed = any(
            s.service == "mercato-notifications" and s.name == "process OrderPlaced" for s in trace.spans
        )
        return trace if consumed and "mercato-gateway" in services else None

    trace = _wait_for(receiver, checkout_trace)
    assert trace, sorted({(s.service, s.name) for s in receiver.spans})

    # Envoy started the trace, and its call to orders is the parent of orders' server span.
    door = trace.one("gateway", SERVER, "ingress")
    assert door.parent_id == ""
    checkout = trace.one("orders", SERVER, "POST /api/v1/checkout")
    call = trace.parent(checkout)
    assert (call.service, call.kind, call.name) == ("mercato-gateway", CLIENT, "router orders egress")
    assert trace.parent(call) == door

    # orders calls catalog and payments: each callee's server span is the child of the caller's call.
    for callee in ("catalog", "payments"):
        calls = [s for s in trace.spans if s.service == "mercato-orders" and s.name.endswith(f" {callee}")]
        assert calls and all(s.kind == CLIENT and trace.descends(s, checkout) for s in calls), callee
        served = [s for s in trace.spans if s.service == f"mercato-{callee}" and s.kind == SERVER]
        assert served and {trace.parent(s).span_id for s in served} <= {s.span_id for s in calls}, callee

    # payments' call to the provider (the Stripe sandbox), inside its server span.
    charge = trace.one("payments", CLIENT, "stripe payment_intents.create")
    assert trace.descends(
        charge, next(s for s in trace.spans if s.service == "mercato-payments" and s.kind == SERVER)
    )

    # OrderPlaced: recorded by orders in the checkout, handled by notifications as a child of that.
    created = trace.one("orders", PRODUCER, "create OrderPlaced")
    assert trace.descends(created, checkout)
    consumed = trace.one("notifications", CONSUMER, "process OrderPlaced")
    assert consumed.attributes["mercato.handler"] == "send_order_confirmation"
    assert consumed.parent_id == created.span_id

    # SQL statements are spans of the services that run them; the relay's publish links the event.
    statements = [
        s for s in trace.spans if s.service == "mercato-orders" and "db.system.name" in s.attributes
    ]
    assert statements and all(trace.descends(s, checkout) for s in statements)
    assert any(s.attributes["db.operation.name"] == "INSERT" for s in statements)
    published = _wait_for(
        receiver,
        lambda spans: [
            s
            for s in spans
            if s.service == "mercato-orders" and s.name == "publish" and created.span_id in s.links
        ],
    )
    assert published and published[0].kind == PRODUCER
    assert order["state"] == "placed"


def test_the_gateway_continues_a_clients_trace(traced_platform, receiver):
    trace_id, parent = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = httpx.get(
        f"{traced_platform.gateway}/api/v1/cart",
        headers=traced_platform.token_for(new_id("cus")) | {"traceparent": f"00-{trace_id}-{parent}-01"},
    )
    assert response.status_code == 200, response.text

    def continued(spans: list[Span]) -> Trace | None:
        trace = Trace([s for s in spans if s.trace_id == trace_id])
        return trace if {s.service for s in trace.spans} >= {"mercato-gateway", "mercato-orders"} else None

    trace = _wait_for(receiver, continued)
    assert trace, "the client's trace id reached neither the gateway's spans nor orders'"
    assert trace.one("gateway", SERVER, "ingress").parent_id == parent
    assert trace.descends(
        trace.one("orders", SERVER, "GET /api/v1/cart"), trace.one("gateway", SERVER, "ingress")
    )
