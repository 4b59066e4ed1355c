"""The platform kernel as services use it: settings, errors, ids, readiness, idempotency."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from mercato.bench import metric_value
from mercato.platform.app import UnitOfWork, create_app
from mercato.platform.crypto import new_key
from mercato.platform.db import Database
from mercato.platform.idempotency import IdempotencyKey, idempotent
from mercato.platform.ids import is_id, new_id
from mercato.platform.settings import ServiceSettings, service_config
from mercato.services.catalog.settings import CatalogSettings
from mercato.services.customers.settings import CustomersSettings


def test_production_refuses_development_secrets(monkeypatch):
    monkeypatch.setenv("MERCATO_CATALOG_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CURSOR_SECRET"):
        CatalogSettings()
    monkeypatch.setenv("MERCATO_CATALOG_CURSOR_SECRET", "a-real-secret")
    assert CatalogSettings().environment == "production"


def test_customers_outside_development_needs_a_real_signing_key(monkeypatch):
    monkeypatch.setenv("MERCATO_CUSTOMERS_ENVIRONMENT", "production")
    monkeypatch.setenv("MERCATO_CUSTOMERS_CURSOR_SECRET", "a-real-secret")
    monkeypatch.setenv("MERCATO_CUSTOMERS_DATA_KEYS", new_key())
    monkeypatch.setenv("MERCATO_CUSTOMERS_BLIND_INDEX_KEY", new_key())
    with pytest.raises(ValidationError, match="SIGNING_KEY"):
        CustomersSettings()


def test_each_service_reads_only_its_own_environment(monkeypatch):
    monkeypatch.setenv("MERCATO_CATALOG_DATABASE_URL", "postgresql+asyncpg://db/catalog")
    assert CatalogSettings().database_url == "postgresql+asyncpg://db/catalog"
    assert CustomersSettings().database_url.startswith("sqlite+aiosqlite:///")


def test_ids_are_prefixed_and_time_ordered():
    first, second = new_id("ord", at_ms=1_000), new_id("ord", at_ms=2_000)
    assert is_id(first, "ord") and not is_id(first, "cus") and not is_id("ord_short", "ord")
    assert first < second


class _Thing(BaseModel):
    name: str


class _ThingOut(BaseModel):
    id: str
    name: str


class _KernelSettings(ServiceSettings):
    model_config = service_config("kernel_test")
    service_name: str = "customers"  # borrows customers' schema: it has the kernel's tables


@pytest.fixture
async def kernel_app(databases, backend):
    """A minimal service built from the kernel, counting how often its side effect really runs."""
    router = APIRouter()
    runs: list[str] = []

    @router.post("/things", status_code=201)
    async def create_thing(body: _Thing, session: UnitOfWork, key: IdempotencyKey = None):
        async def work() -> _ThingOut:
            await asyncio.sleep(0.01)
            runs.append(body.name)
            return _ThingOut(id=new_id("thg"), name=body.name)

        return await idempotent(session, scope="POST /things", key=key, request=body, run=work, required=True)

    @router.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    settings = _KernelSettings(
        environment="test", database_url=await databases.fresh("customers", backend), cursor_secret="s"
    )
    app = create_app(settings=settings, title="kernel", description="test", routers=[router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False
        )  # as a real server: answer, then log
        async with httpx.AsyncClient(transport=transport, base_url="http://k") as client:
            client.runs = runs  # type: ignore[attr-defined]
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_concurrent_retries_with_one_idempotency_key_do_the_work_once(kernel_app):
    responses = await asyncio.gather(
        *(
            kernel_app.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "same"})
            for _ in range(20)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert kernel_app.runs == ["a"]


async def test_idempotency_key_is_required_where_declared_and_bound_to_the_body(kernel_app):
    missing = await kernel_app.post("/things", json={"name": "a"})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"Idempotency-Key": "is required"}
    await kernel_app.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "k"})
    reused = await kernel_app.post("/things", json={"name": "b"}, headers={"Idempotency-Key": "k"})
    assert reused.status_code == 409


async def test_unexpected_errors_are_a_bare_500_problem_that_leaks_nothing(kernel_app):
    response = await kernel_app.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text


async def test_request_ids_are_propagated_or_generated(kernel_app):
    assert (await kernel_app.get("/healthz", headers={"x-request-id": "abc-123"})).headers[
        "x-request-id"
    ] == "abc-123"
    assert len((await kernel_app.get("/healthz")).headers["x-request-id"]) == 32


async def test_unknown_routes_and_methods_are_problems(kernel_app):
    assert (await kernel_app.get("/nope")).json()["status"] == 404
    assert (await kernel_app.delete("/healthz")).json()["status"] == 405


async def test_readiness_fails_when_the_database_is_unreachable(kernel_app, tmp_path):
    assert (await kernel_app.get("/readyz")).status_code == 200
    healthy = kernel_app.app.state.db
    kernel_app.app.state.db = Database(f"sqlite+aiosqlite:///{tmp_path}")  # a directory: cannot open
    try:
        response = await kernel_app.get("/readyz")
        assert response.status_code == 503
        assert "database unreachable" in response.json()["detail"]
        assert (await kernel_app.get("/healthz")).status_code == 200  # alive, just not ready
    finally:
        await kernel_app.app.state.db.dispose()
        kernel_app.app.state.db = healthy


def test_no_service_imports_another():
    """The import-linter contracts in pyproject.toml: services share only contracts and the kernel."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([lint_imports, "--no-cache"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


async def test_metrics_count_requests_and_sql_statements(kernel_app):
    await kernel_app.post("/things", json={"name": "m"}, headers={"Idempotency-Key": "metrics"})
    text = (await kernel_app.get("/metrics")).text
    posted = {"route": "/things", "method": "POST", "status": "201"}
    assert metric_value(text, "mercato_http_requests_total", service="customers", **posted) == 1
    assert metric_value(text, "mercato_sql_statements_total") >= 2  # the key's claim and its stored response
