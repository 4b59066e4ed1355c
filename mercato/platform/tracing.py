"""Traces: OpenTelemetry spans, and the W3C trace context (`traceparent`) that links them across
processes — HTTP requests in and out, event envelopes, consumers.

A request arrives with a `traceparent` header (Envoy, a client or a test may set one) or starts a new
trace. Every call it makes to another service carries it on; every event recorded while handling it
carries, in its envelope, the span that recorded it; a consumer handles the event in a child span of
that one, so one trace id follows an order from the checkout request to the confirmation e-mail — in
the JSON logs (`trace_id`) and in a tracing backend.

Spans are exported (OTLP over HTTP, protobuf, in batches) only when the standard environment names
an endpoint: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` (with the other
standard `OTEL_*` variables: headers, sampler, batch sizes). Otherwise spans are never recorded: each
is an id that the context carries (for the logs and the envelopes), and SQL statements and calls get
no span at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_propagator = TraceContextTextMapPropagator()

# Until `configure` says otherwise: spans with ids and no recording (nothing sampled, no processor).
_provider = TracerProvider(sampler=ALWAYS_OFF)
tracer = _provider.get_tracer("mercato")
exporting = False

SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = (
    SpanKind.SERVER,
    SpanKind.CLIENT,
    SpanKind.PRODUCER,
    SpanKind.CONSUMER,
    SpanKind.INTERNAL,
)


def endpoint_configured(environ: Mapping[str, str] = os.environ) -> bool:
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    return any(environ.get(name) for name in names)


def configure(service: str) -> bool:
    """Record and export this process's spans as `mercato-<service>` if an OTLP endpoint is configured
    (once per process: the first service configured names it). True if spans are exported."""
    global _provider, tracer, exporting
    if exporting or not endpoint_configured() or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return exporting
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or f"mercato-{service}"
    _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))  # sampler: OTEL_TRACES_SAMPLER
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)
    tracer = _provider.get_tracer("mercato")
    exporting = True
    return True


def provider() -> TracerProvider:
    return _provider


def shutdown() -> None:
    """Export what is still buffered (at the end of the process)."""
    if exporting:
        _provider.shutdown()


# Probes and scrapes (every few seconds) would each be a trace of their own.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# When spans are exported, FastAPI's own telemetry makes each request's server span — a child of the
# caller's `traceparent`, named after the route template (`POST /api/v1/checkout`) — and it is current
# while the request is handled. Its spans of dependencies, endpoint and serialization are left out.
FASTAPI_TELEMETRY: Any = {
    "operation_spans": False,
    "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS,
}


def start_request(scope: Mapping[str, Any], traceparent: bytes | None) -> object | None:
    """When spans are not exported: the request's span — ids only, a child of the caller's
    `traceparent` or the first of a new trace — current until `end_request`."""
    if exporting or scope["path"] in UNTRACED_PATHS:
        return None
    parent = extract(traceparent.decode("latin-1")) if traceparent else None
    request_span = tracer.start_span("request", context=parent or Context(), kind=SERVER)
    return context_api.attach(trace.set_span_in_context(request_span))


def end_request(token: object | None) -> None:
    if token is not None:
        context_api.detach(token)  # type: ignore[arg-type]


TRANSACTION_CONTROL = frozenset({"BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT"})


def trace_statements(engine: Any, system: str) -> None:
    """A client span for each SQL statement `engine` (a sync Engine) runs that reads or writes data
    (not BEGIN, SAVEPOINT, …) — only when exporting."""
    if not exporting:
        return
    from sqlalchemy import event

    def before(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: Any) -> None:
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        if operation in TRANSACTION_CONTROL:
            return  # a round trip, but no data: as the statement counts (metrics), no span
        context._mercato_span = tracer.start_span(
            f"{operation} {system}",
            kind=CLIENT,
            attributes={"db.system.name": system, "db.operation.name": operation, "db.query.text": statement},
        )

    def after(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: Any) -> None:
        if (statement_span := getattr(context, "_mercato_span", None)) is not None:
            statement_span.end()

    def error(exception_context: Any) -> None:
        context = exception_context.execution_context
        if (statement_span := getattr(context, "_mercato_span", None)) is not None:
            failed(statement_span, str(exception_context.original_exception)[:300])
            statement_span.end()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", error)


def extract(traceparent: str | None) -> Context | None:
    """The context of a `traceparent` header or envelope field, as a parent; None if it is not valid."""
    if not traceparent:
        return None
    context = _propagator.extract({"traceparent": traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = INTERNAL,
    parent: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    links: Sequence[str | None] = (),
) -> Iterator[Span]:
    """A span, current while the block runs: a child of the `parent` traceparent if given (a new
    trace if that is not valid), else of the current span. `links`: traceparents it is linked to.
    An exception leaving the block marks it failed."""
    context = extract(parent) if parent is not None else None
    if parent is not None and context is None:
        context = Context()  # an unreadable parent: a new trace rather than the caller's
    span_links = _links(links) if exporting and links else None
    with tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, links=span_links
    ) as current_span:
        yield current_span


def _links(traceparents: Sequence[str | None]) -> list[Link]:
    contexts = (extract(traceparent) for traceparent in traceparents)
    return [Link(trace.get_current_span(c).get_span_context()) for c in contexts if c is not None]


def producer(name: str, parent: str | None = None) -> str | None:
    """The `traceparent` an event envelope carries: a producer span (the event's creation, a child of
    `parent` or of the current span) that its consumers' spans will be children of."""
    with span(name, kind=PRODUCER, parent=parent, attributes={"messaging.operation.type": "create"}):
        return current()


@contextmanager
def consuming(name: str, traceparents: Sequence[str | None], attributes: Mapping[str, Any]) -> Iterator[Span]:
    """The span of handling delivered events: a child of their producer's span when they are all of one
    trace (one event, or a batch of one checkout's), else a new trace; linked to each producer span."""
    trace_ids = {trace_id(traceparent) for traceparent in traceparents}
    parent = traceparents[0] if len(trace_ids) == 1 and None not in trace_ids else ""
    with span(
        name,
        kind=CONSUMER,
        parent=parent,
        attributes={"messaging.operation.type": "process", **attributes},
        links=traceparents if len(traceparents) > 1 or not parent else (),
    ) as consumer_span:
        yield consumer_span


def failed(span_: Span, description: str) -> None:
    """Mark a span failed without an exception (a 5xx answered)."""
    span_.set_status(Status(StatusCode.ERROR, description))


def current() -> str | None:
    """The current span as a `traceparent`: what an event recorded now or a call made now carries."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def inject(headers: dict[str, str]) -> None:
    """Add the current span's `traceparent` to outgoing headers (if there is one)."""
    _propagator.inject(headers)


def current_trace_id() -> str | None:
    """The current trace id (hex), for the logs."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def parse(header: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid version-00 traceparent, else None."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    if not match or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return match[1], match[2], match[3]


def trace_id(header: str | None) -> str | None:
    parsed = parse(header)
    return parsed[0] if parsed else None


def child_of(header: str | None) -> str:
    """A new span id in the trace of `header`, or the first of a new trace, as a `traceparent` (for a
    producer outside any span: a test, a script)."""
    with span("event", parent=header or "") as new:
        context = new.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
