"""What a service's `/metrics` says, as Prometheus reads it: requests by route template and status with
their latencies, SQL statements, provider calls — and that a reading that fails spoils no scrape."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from fastapi import APIRouter

from mercato.bench import metric_value
from mercato.platform.app import ReadOne, create_app
from mercato.platform.metrics import Metrics
from mercato.platform.settings import ServiceSettings, service_config


class _Settings(ServiceSettings):
    model_config = service_config("metrics_test")
    service_name: str = "customers"  # borrows customers' schema


@pytest.fixture
async def service(databases, backend):
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str, connection: ReadOne):
        await connection.exec_driver_sql("SELECT 1")
        return {"id": thing_id}

    @router.get("/boom")
    async def boom():
        raise RuntimeError("boom")

    settings = _Settings(
        environment="test", database_url=await databases.fresh("customers", backend), cursor_secret="s"
    )
    app = create_app(settings=settings, title="metrics", description="test", routers=[router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
            yield client


async def test_requests_are_counted_and_timed_by_route_template_method_and_status(service):
    for path in ("/things/a", "/things/b", "/nowhere/c", "/boom", "/healthz", "/readyz"):
        await service.get(path)
    await service.request("BREW", "/things/c")  # a made-up method: no series of its own
    text = (await service.get("/metrics")).text

    def requests(**labels: str) -> float:
        return metric_value(text, "mercato_http_requests_total", service="customers", **labels)

    assert requests(route="/things/{thing_id}", method="GET", status="200") == 2  # never the raw path
    assert requests(route="unmatched", status="404") == 1
    assert requests(route="/boom", status="500") == 1
    assert requests(route="/things/{thing_id}", method="other", status="405") == 1
    assert requests() == 5  # probes are not requests
    histogram = "mercato_http_request_duration_seconds"
    thing = {"route": "/things/{thing_id}", "method": "GET"}
    assert metric_value(text, f"{histogram}_count", **thing) == 2
    assert metric_value(text, f"{histogram}_bucket", **thing, le="0.005") <= 2
    assert metric_value(text, f"{histogram}_bucket", **thing, le="10.0") == 2
    assert metric_value(text, f"{histogram}_sum", **thing) > 0
    assert metric_value(text, "mercato_sql_statements_total", service="customers") >= 2
    assert metric_value(text, "process_resident_memory_bytes") > 0
    assert "mercato_http_requests_created" not in text  # no `_created` twin per counter


async def test_provider_calls_are_timed_by_outcome():
    metrics = Metrics("payments")

    async def answer(value):
        return value

    async def fail(error):
        raise error

    assert await metrics.provider_call("stripe", "payment_intents.create", answer("pi_1")) == "pi_1"
    for error in (LookupError("declined"), ConnectionError("down")):
        with pytest.raises(type(error)):
            await metrics.provider_call(
                "stripe", "payment_intents.create", fail(error), refused=lambda e: isinstance(e, LookupError)
            )
    text = (await metrics.scrape(SimpleNamespace())).decode()
    for outcome in ("ok", "refused", "failed"):
        count = metric_value(
            text, "mercato_provider_request_duration_seconds_count", provider="stripe", outcome=outcome
        )
        assert count == 1, outcome


async def test_a_reading_that_fails_leaves_out_its_series_only():
    class BrokenRelay:
        async def lag(self):
            raise ConnectionError("database gone")

    metrics = Metrics("orders")
    metrics.request("/api/v1/checkout", "POST", 201, 0.2)
    text = (await metrics.scrape(SimpleNamespace(db=None, relay=BrokenRelay(), consumer=None))).decode()
    assert "mercato_outbox_lag_seconds" not in text
    assert metric_value(text, "mercato_http_requests_total", route="/api/v1/checkout") == 1
