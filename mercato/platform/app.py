"""The application factory every service uses: same middleware, errors, health and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.platform import tracing
from mercato.platform.broker import BrokerSettings, EventPublisher
from mercato.platform.consumers import EventConsumer
from mercato.platform.db import Database
from mercato.platform.errors import install_problem_handlers, problem_response
from mercato.platform.handlers import Handlers
from mercato.platform.idempotency import purge_expired_keys
from mercato.platform.logging import configure_logging, request_id_var
from mercato.platform.metrics import CONTENT_TYPE, UNMATCHED, Metrics
from mercato.platform.openapi import install_openapi
from mercato.platform.relay import Relay
from mercato.platform.settings import ServiceSettings

log = logging.getLogger("mercato.http")

PeriodicTask = tuple[float, Callable[[FastAPI], Awaitable[None]]]  # (every seconds, task)


class RequestContextMiddleware:
    """Request id, body size limit, request metrics, and a log line for each notable request (a 5xx, or
    slower than `slow_request_ms`; every request with `log_requests="all"`), as plain ASGI (no overhead
    of BaseHTTPMiddleware on the hot path). The gateway's access log has a line for every request at the
    door; a line per request here too cost more CPU than the request's own work (docs/performance.md)."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics, log_all: bool, slow_ms: float
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.log_all = log_all
        self.slow_ms = slow_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request_span = tracing.start_request(scope, headers.get(b"traceparent"))
        started = time.perf_counter()
        status = 500

        declared = headers.get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = problem_response(
                413,
                "Request body too large",
                f"The body may be at most {self.max_body_bytes} bytes.",
                slug="payload-too-large",
                headers={"x-request-id": request_id},
            )
            await response(scope, receive, send)
            request_id_var.reset(token)
            tracing.end_request(request_span)
            return

        if _has_nul(scope):
            response = problem_response(
                400,
                "Malformed request",
                "The path or query string holds a NUL character (%00), which no resource or value can.",
                slug="malformed-request",
                headers={"x-request-id": request_id},
            )
            await response(scope, receive, send)
            request_id_var.reset(token)
            tracing.end_request(request_span)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, f"The body may be at most {self.max_body_bytes} bytes.")
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
                seconds = time.perf_counter() - started
                route = scope.get("route")
                self.metrics.request(getattr(route, "path", UNMATCHED), scope["method"], status, seconds)
                duration_ms = seconds * 1000
                if self.log_all or status >= 500 or duration_ms >= self.slow_ms:
                    log.info(
                        "request",
                        extra={
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "duration_ms": round(duration_ms, 2),
                        },
                    )
            request_id_var.reset(token)
            tracing.end_request(request_span)


def _has_nul(scope: Scope) -> bool:
    """A NUL in the (decoded) path or query: PostgreSQL can't even compare text with one (a 500 there)."""
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


def get_database(request: Request) -> Database:
    return request.app.state.db


async def _unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).unit_of_work() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).read() as session:
        yield session


async def _read_one(request: Request) -> AsyncIterator[AsyncConnection]:
    async with get_database(request).read_one() as connection:
        yield connection


# scope="function": the transaction ends before the response is sent, so a client never sees a
# success whose commit then failed.
UnitOfWork = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
# For a use case that reads with a single statement (Database.read_one): no transaction, no ORM.
ReadOne = Annotated[AsyncConnection, Depends(_read_one, scope="function")]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/metrics",
        summary="Metrics in Prometheus' text format (docs/observability.md)",
        response_class=PlainTextResponse,
    )
    async def metrics(request: Request) -> Response:
        state = request.app.state
        return Response(await state.metrics.scrape(state), media_type=CONTENT_TYPE)

    @router.get("/readyz", summary="Readiness: the process can reach its database")
    async def readyz(request: Request):
        if request.app.state.db is None:  # nothing of its own to reach
            return {"status": "ready"}
        try:
            await asyncio.wait_for(get_database(request).ping(), timeout=2)
        except Exception as exc:  # any failure means "not ready", and says why
            return problem_response(503, "Not ready", f"database unreachable: {type(exc).__name__}")
        return {"status": "ready"}

    return router


async def _purge_idempotency_keys(app: FastAPI) -> None:
    async with app.state.db.unit_of_work() as session:
        await purge_expired_keys(session)


async def _every(app: FastAPI, seconds: float, task: Callable[[FastAPI], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await task(app)
        except Exception:
            log.exception("periodic task failed", extra={"task": task.__name__})


def create_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    periodic: Sequence[PeriodicTask] = (),
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None,
    on_shutdown: Callable[[FastAPI], Awaitable[None]] | None = None,
    handlers: Handlers | None = None,
    publishes: bool = True,
) -> FastAPI:
    """A service application. With `handlers`, it also consumes events (and serves its dead letters
    under `/internal/dead-letters`); a service that `publishes` relays its outbox to the broker. Settings
    without a database (`has_database = False`: the mobile API) give an app with none of that."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        tracing.configure(settings.service_name)
        app.state.settings = settings
        app.state.db = None
        if settings.has_database:
            app.state.db = Database(
                settings.database_url,
                echo=settings.database_echo,
                pool_size=settings.database_pool_size,
                keys=settings.keys(),
            )
        if on_startup:
            await on_startup(app)
        housekeeping = [(600.0, _purge_idempotency_keys)] if settings.has_database else []
        tasks = [
            asyncio.create_task(_every(app, seconds, task)) for seconds, task in [*housekeeping, *periodic]
        ]
        broker = BrokerSettings()
        publisher = EventPublisher(broker) if broker.enabled and publishes and settings.has_database else None
        app.state.relay = Relay(app.state.db, publisher, service=settings.service_name) if publisher else None
        if app.state.relay:
            tasks.append(asyncio.create_task(app.state.relay.run()))
        app.state.consumer = None
        if handlers is not None:
            app.state.consumer = EventConsumer(
                handlers=handlers, db=app.state.db, app=app, broker_settings=broker, metrics=app.state.metrics
            )
            if broker.enabled:
                app.state.consumer.start()
        try:
            yield
        finally:
            if app.state.consumer:
                await app.state.consumer.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if publisher:
                await publisher.close()
            if on_shutdown:
                await on_shutdown(app)
            if app.state.db is not None:
                await app.state.db.dispose()
            tracing.shutdown()

    # No trailing-slash redirects: Starlette builds their Location from the client's Host header, so a
    # forged Host (`/api/v1/cart/` with `Host: evil.example.com`) came back as a redirect to another
    # site, one shared cache away from poisoning. API paths are exact; `/api/v1/cart/` is a 404.
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        redirect_slashes=False,
        telemetry=tracing.FASTAPI_TELEMETRY,
    )
    app.state.metrics = Metrics(settings.service_name)
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=app.state.metrics,
        log_all=settings.log_requests == "all",
        slow_ms=settings.slow_request_ms,
    )
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)
    if handlers is not None:
        from mercato.platform.dead_letters import router as dead_letters_router  # it imports this module

        app.include_router(dead_letters_router)
    return app
