"""Trace context through the kernel: a request's trace goes on in its calls to other services (over
real HTTP), the events it records and the logs; exported spans form one tree from a request's
statements and events to the handlers of those events."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest
from aiohttp import web
from fastapi import APIRouter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from mercato.contracts.events import OrderStatusChanged
from mercato.platform import tracing
from mercato.platform.app import UnitOfWork, create_app
from mercato.platform.clients import ServiceClient
from mercato.platform.db import Database
from mercato.platform.handlers import BatchContext, Handlers, Received
from mercato.platform.logging import JsonFormatter
from mercato.platform.outbox import record_event
from mercato.platform.settings import ServiceSettings, service_config
from mercato.platform.tables import outbox

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _change(order_id: str = "ord_1") -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=order_id, customer_id="cus_1", from_state="a", to_state="b", changed_at=datetime.now(UTC)
    )


class _Settings(ServiceSettings):
    model_config = service_config("tracing_test")
    service_name: str = "catalog"  # borrows catalog's schema: it has an outbox


@pytest.fixture
async def sibling():
    """Another service, over real HTTP: it answers with the traceparent it was called with."""

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"traceparent": request.headers.get("traceparent")})

    application = web.Application()
    application.router.add_get("/echo", echo)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = ServiceClient("sibling", f"http://127.0.0.1:{port}")
    yield client
    await client.close()
    await runner.cleanup()


@pytest.fixture
async def service(databases, backend, sibling):
    router = APIRouter()

    @router.post("/things")
    async def make_thing(session: UnitOfWork):
        await record_event(session, _change(), aggregate_id="ord_1")
        record = logging.LogRecord("mercato.test", logging.WARNING, __file__, 1, "made a thing", None, None)
        line = JsonFormatter("catalog").format(record)  # as the service's log handler writes it
        called_with = (await sibling.request("GET", "/echo"))["traceparent"]
        return {"current": tracing.current(), "sibling_saw": called_with, "log": json.loads(line)}

    url = await databases.fresh("catalog", backend)
    settings = _Settings(environment="test", database_url=url, cursor_secret="s")
    app = create_app(settings=settings, title="tracing", description="test", routers=[router])
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        client.db = app.state.db  # type: ignore[attr-defined]
        yield client


async def _envelopes(db: Database) -> list[dict]:
    async with db.read() as session:
        return [row.envelope for row in await session.execute(select(outbox.c.envelope))]


async def test_a_request_goes_on_in_the_callers_trace_in_its_calls_events_and_logs(service):
    answer = (await service.post("/things", headers={"traceparent": CALLER})).json()
    trace_id, caller_span = tracing.parse(CALLER)[:2]
    assert tracing.trace_id(answer["current"]) == trace_id
    assert tracing.parse(answer["current"])[1] != caller_span  # a span of its own
    assert tracing.trace_id(answer["sibling_saw"]) == trace_id
    assert tracing.parse(answer["sibling_saw"])[1] != tracing.parse(answer["current"])[1]  # the call's span
    [envelope] = await _envelopes(service.db)
    assert tracing.trace_id(envelope["traceparent"]) == trace_id
    assert answer["log"]["trace_id"] == trace_id


@pytest.mark.parametrize("header", [None, "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "junk"])
async def test_a_request_without_a_valid_traceparent_starts_a_trace_of_its_own(service, header):
    headers = {"traceparent": header} if header else {}
    first = (await service.post("/things", headers=headers)).json()["current"]
    second = (await service.post("/things", headers=headers)).json()["current"]
    assert tracing.parse(first) and tracing.parse(second)
    assert tracing.trace_id(first) != tracing.trace_id(second)


@pytest.fixture
def exported(monkeypatch):
    """Spans recorded as when an OTLP endpoint is configured, kept in memory to look at."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("test"))
    monkeypatch.setattr(tracing, "exporting", True)
    return exporter


async def test_statements_events_and_their_handlers_form_one_tree_of_spans(exported, databases, backend):
    db = Database(await databases.fresh("catalog", backend))  # made while exporting: statements traced
    try:
        with tracing.span("POST /things", kind=SpanKind.SERVER, parent=CALLER) as request:
            async with db.unit_of_work() as session:
                await record_event(session, _change(), aggregate_id="ord_1")
        [envelope] = await _envelopes(db)

        handled: list[str | None] = []
        handlers = Handlers("tracing-test")

        @handlers.on(OrderStatusChanged)
        async def remember(session, event, context) -> None:
            handled.append(tracing.current())

        received = Received(_change(), "e1", datetime.now(UTC), envelope["traceparent"], attempt=1)
        async with db.unit_of_work() as session:
            await handlers.handlers[0].run(session, [received], BatchContext(app=None, session=session))
    finally:
        await db.dispose()

    spans = {span.name: span for span in exported.get_finished_spans()}
    root = request.get_span_context()
    assert spans["POST /things"].parent.span_id == int(tracing.parse(CALLER)[1], 16)
    insert = next(s for s in exported.get_finished_spans() if s.name.startswith("INSERT"))
    assert insert.kind == SpanKind.CLIENT and insert.parent.span_id == root.span_id
    assert insert.attributes["db.query.text"].startswith("INSERT INTO outbox")
    created = spans["create OrderStatusChanged"]
    assert created.kind == SpanKind.PRODUCER and created.parent.span_id == root.span_id
    assert envelope["traceparent"] == f"00-{root.trace_id:032x}-{created.context.span_id:016x}-01"
    consumed = spans["process OrderStatusChanged"]
    assert consumed.kind == SpanKind.CONSUMER and consumed.parent.span_id == created.context.span_id
    assert consumed.attributes["mercato.handler"] == "remember"
    assert tracing.parse(handled[0])[1] == f"{consumed.context.span_id:016x}"  # the handler runs in it


async def test_a_batch_of_several_traces_is_a_trace_of_its_own_linked_to_each(exported):
    other = tracing.child_of(None)
    with tracing.consuming("process OrderStatusChanged", [CALLER, other], {}) as batch:
        pass
    context = batch.get_span_context()
    assert batch.parent is None and context.trace_id not in {
        int(tracing.trace_id(CALLER), 16),
        int(tracing.trace_id(other), 16),
    }
    assert [f"{link.context.span_id:016x}" for link in batch.links] == [
        tracing.parse(CALLER)[1],
        tracing.parse(other)[1],
    ]


def test_without_an_endpoint_nothing_is_exported(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure("catalog") is False
    with tracing.span("anything") as span:
        assert not span.is_recording() and span.get_span_context().is_valid
