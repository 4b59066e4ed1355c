"""A Stripe-compatible payment provider sandbox: the stand-in for Stripe in local runs and tests.

It answers the subset of Stripe's REST API that Mercato uses (PaymentMethods, PaymentIntents, Charges,
Refunds, Disputes, Events), form-encoded in and JSON out, with Stripe's authentication, errors,
idempotency and signed webhooks, so the official `stripe` SDK talks to it unchanged:

    client = stripe.StripeClient(
        "sk_test_mercato_sandbox", base_addresses={"api": Topology.from_env().payment_sandbox_url}
    )

Under `/_sandbox/` it adds what Stripe can't offer: a readiness probe and fault injection (delays,
errors and hangs, before or after an operation takes effect), so the payments service's handling of
a slow, failing or silent provider can be tested against the real client code.

Run it with `python -m mercato.sandbox.payments` (`mercato up` does); settings come from
`MERCATO_PAYMENT_SANDBOX_*` environment variables.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mercato.sandbox.payments_domain import Ledger, current_request
from mercato.sandbox.payments_store import SavedResponse, Store
from mercato.sandbox.payments_webhooks import WebhookDispatcher
from mercato.sandbox.payments_wire import (
    API_VERSION,
    Params,
    StripeError,
    decode_form,
    expand,
    invalid,
    new_id,
)
from mercato.topology import HOST, Topology, var_dir

IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
HANG_SECONDS = 600.0  # longer than any client waits; ends early when the client gives up
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Original-Request, Stripe-Version",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
    "Access-Control-Max-Age": "600",
}


class PaymentSandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_PAYMENT_SANDBOX_", extra="ignore")

    host: str = HOST  # 0.0.0.0 in a container, so the payments service's container reaches it
    port: int = Field(default_factory=lambda: Topology.from_env().payment_sandbox_port)
    state_file: Path = Field(default_factory=lambda: var_dir() / "sandbox" / "payments.db")
    # Test-mode keys, public by design: the sandbox moves no money.
    secret_key: str = "sk_test_mercato_sandbox"  # noqa: S105
    publishable_key: str = "pk_test_mercato_sandbox"
    webhook_url: str | None = None
    webhook_secret: str = "whsec_mercato_sandbox"  # noqa: S105
    latency_ms: int = 0


# --- fault injection -----------------------------------------------------------------------------


class FaultSpec(BaseModel):
    """`POST /_sandbox/faults`: make matching requests slow, fail or hang, before or after they act."""

    model_config = ConfigDict(extra="forbid")

    path_prefix: str = Field(pattern=r"^/v1(/.*)?$")
    mode: Literal["delay", "error", "hang"]
    method: Literal["GET", "POST", "DELETE"] | None = None
    delay_ms: int = Field(default=1000, ge=0, le=600_000)
    status: int = Field(default=500, ge=400, le=599)
    count: int = Field(default=0, ge=0)  # how many matching requests; 0 = until cleared
    after: bool = False  # True: the operation takes effect, then the response is delayed/failed/hung


@dataclass
class Fault:
    id: str
    spec: FaultSpec
    remaining: int | None

    def matches(self, method: str, path: str, after: bool) -> bool:
        spec = self.spec
        return (
            spec.after == after
            and path.startswith(spec.path_prefix)
            and (spec.method is None or spec.method == method)
        )

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec.model_dump(), "remaining": self.remaining}


class Faults:
    """Active faults, in the order they were added; the first that matches a request applies."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(new_id("flt", 12), spec, spec.count or None)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._faults]

    def take(self, method: str, path: str, *, after: bool) -> FaultSpec | None:
        for fault in self._faults:
            if fault.matches(method, path, after):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault.spec
        return None


# --- the application -----------------------------------------------------------------------------

Operation = Callable[[Ledger, Params, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation: Operation
    publishable: bool = False  # may the publishable key call it (only tokenising cards and wallets)


ENDPOINTS = [
    Endpoint("POST", "/v1/payment_methods", lambda led, p, _: led.create_payment_method(p), publishable=True),
    Endpoint("POST", "/v1/tokens", lambda led, p, _: led.tokens.create(p), publishable=True),
    Endpoint("GET", "/v1/tokens/{id}", lambda led, p, a: led.retrieve("token", a["id"], p)),
    # Google Pay's TEST environment, which creates the wallet's token at the provider (see payments_wallets)
    Endpoint(
        "POST", "/_sandbox/wallets/google_pay", lambda led, p, _: led.tokens.google_pay(p), publishable=True
    ),
    Endpoint("GET", "/v1/payment_methods/{id}", lambda led, p, a: led.retrieve("payment_method", a["id"], p)),
    Endpoint("POST", "/v1/payment_intents", lambda led, p, _: led.create_intent(p)),
    Endpoint("GET", "/v1/payment_intents", lambda led, p, _: led.list_intents(p)),
    Endpoint("GET", "/v1/payment_intents/search", lambda led, p, _: led.search_intents(p)),
    Endpoint("GET", "/v1/payment_intents/{id}", lambda led, p, a: led.retrieve("payment_intent", a["id"], p)),
    Endpoint("POST", "/v1/payment_intents/{id}", lambda led, p, a: led.update_intent(a["id"], p)),
    Endpoint("POST", "/v1/payment_intents/{id}/confirm", lambda led, p, a: led.confirm_intent(a["id"], p)),
    Endpoint("POST", "/v1/payment_intents/{id}/capture", lambda led, p, a: led.capture_intent(a["id"], p)),
    Endpoint("POST", "/v1/payment_intents/{id}/cancel", lambda led, p, a: led.cancel_intent(a["id"], p)),
    Endpoint("GET", "/v1/charges/{id}", lambda led, p, a: led.retrieve("charge", a["id"], p)),
    Endpoint("POST", "/v1/refunds", lambda led, p, _: led.create_refund(p)),
    Endpoint("GET", "/v1/refunds", lambda led, p, _: led.list_refunds(p)),
    Endpoint("GET", "/v1/refunds/{id}", lambda led, p, a: led.retrieve("refund", a["id"], p)),
    Endpoint("GET", "/v1/disputes/{id}", lambda led, p, a: led.retrieve("dispute", a["id"], p)),
    Endpoint("GET", "/v1/events", lambda led, p, _: led.list_events(p)),
    Endpoint("GET", "/v1/events/{id}", lambda led, p, a: led.retrieve("event", a["id"], p)),
]


def _secret_key_required() -> StripeError:
    return StripeError(
        401,
        "invalid_request_error",
        "This API call cannot be made with a publishable API key. Please use a secret API key.",
        code="secret_key_required",
    )


def _json(status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, str) else json.dumps(body, indent=2)
    return Response(content, status_code=status, media_type="application/json", headers=headers)


class PaymentSandbox:
    """The request pipeline every `/v1` call goes through, in Stripe's order: latency, authentication,
    faults before, idempotency (serialised per key) around the operation in one transaction, faults
    after. Faults sit outside the idempotency layer on purpose: a fault *before* is a provider that
    never saw the request, so nothing is saved and a retry executes; a fault *after* loses only the
    response, so a retry with the same key gets the saved outcome, as it would at Stripe."""

    def __init__(self, settings: PaymentSandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.state_file)
        self.ledger = Ledger(
            self.store,
            webhook_url=settings.webhook_url,
            fingerprint_salt=f"fingerprint:{settings.secret_key}",
        )
        self.webhooks = WebhookDispatcher(self.store, settings.webhook_secret)
        self.ledger.on_event = self.webhooks.wake
        self.faults = Faults()
        self._key_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- authentication ---------------------------------------------------------------------------
    def _api_key(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
        if not key:
            raise StripeError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if key not in (self.settings.secret_key, self.settings.publishable_key):
            redacted = f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"
            raise StripeError(
                401, "invalid_request_error", f"Invalid API Key provided: {redacted}", code="api_key_invalid"
            )
        return key

    def require_secret_key(self, request: Request) -> None:
        if self._api_key(request) != self.settings.secret_key:
            raise _secret_key_required()

    # --- the /v1 pipeline -------------------------------------------------------------------------
    async def handle(self, request: Request, endpoint: Endpoint) -> Response:
        request_id = new_id("req", 14)
        path = request.url.path
        headers = {
            **CORS_HEADERS,
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("stripe-version", API_VERSION),
        }
        try:
            raw = await request.body()
            if self.settings.latency_ms:
                await asyncio.sleep(self.settings.latency_ms / 1000)
            if self._api_key(request) != self.settings.secret_key and not endpoint.publishable:
                raise _secret_key_required()
            before = self.faults.take(request.method, path, after=False)
            if before is not None:
                failure = await self._apply_fault(before, request, headers)
                if failure is not None:
                    return failure
            data = decode_form(raw if request.method == "POST" else request.url.query)
            idempotency_key = request.headers.get("idempotency-key") if request.method == "POST" else None
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            status, body, replayed_from = await self._execute(
                endpoint, request, data, request_id, idempotency_key
            )
        except StripeError as error:
            return _json(error.status, error.body(), {**headers, **error.headers})
        if replayed_from is not None:
            headers.update({"Idempotent-Replayed": "true", "Original-Request": replayed_from})
        after = self.faults.take(request.method, path, after=True)
        if after is not None:
            failure = await self._apply_fault(after, request, headers)
            if failure is not None:
                return failure
        return _json(status, body, headers)

    async def _execute(
        self,
        endpoint: Endpoint,
        request: Request,
        data: dict[str, Any],
        request_id: str,
        idempotency_key: str | None,
    ) -> tuple[int, str, str | None]:
        """Run the operation (or replay its saved outcome): (status, body, original request id)."""
        if idempotency_key is None:
            status, body = self._run(endpoint, request, data, request_id, None)
            return status, body, None
        if not 0 < len(idempotency_key) <= 255:
            raise invalid("Idempotency keys must be between 1 and 255 characters long.")
        fingerprint = hashlib.sha256(
            json.dumps([request.method, request.url.path, data], sort_keys=True).encode()
        ).hexdigest()
        lock = self._key_locks.setdefault(idempotency_key, asyncio.Lock())
        async with lock:  # concurrent requests with one key run one after the other: one executes
            with self.store.transaction():
                saved = self.store.saved_response(idempotency_key, time.time() - IDEMPOTENCY_WINDOW_SECONDS)
                if saved is not None:
                    if saved.fingerprint != fingerprint:
                        raise StripeError(
                            400,
                            "idempotency_error",
                            f"Keys for idempotent requests can only be used with the same parameters they "
                            f"were first used with. Try using a key other than '{idempotency_key}' if you "
                            f"meant to execute a different request.",
                        )
                    return saved.status, saved.body, saved.request_id
                status, body = self._run(endpoint, request, data, request_id, idempotency_key)
                self.store.save_response(
                    idempotency_key, SavedResponse(fingerprint, status, body, request_id, time.time())
                )
                return status, body, None

    def _run(
        self,
        endpoint: Endpoint,
        request: Request,
        data: dict[str, Any],
        request_id: str,
        idempotency_key: str | None,
    ) -> tuple[int, str]:
        """One operation in one transaction. Errors that Stripe would not save roll it back and
        propagate; a stored error (a decline) commits what it changed and becomes the answer."""
        token = current_request.set({"id": request_id, "idempotency_key": idempotency_key})
        try:
            with self.store.transaction():
                params = Params(data)
                try:
                    result = endpoint.operation(self.ledger, params, dict(request.path_params))
                except StripeError as error:
                    if not error.stored:
                        raise
                    return error.status, json.dumps(error.body(), indent=2)
                expand(result, params.strings("expand"), self.ledger.resolve)
                return 200, json.dumps(result, indent=2)
        finally:
            current_request.reset(token)

    async def _apply_fault(
        self, fault: FaultSpec, request: Request, headers: dict[str, str]
    ) -> Response | None:
        """Apply a fault: a delay lets the request go on (None); an error or a hang answers instead."""
        if fault.mode == "delay":
            await asyncio.sleep(fault.delay_ms / 1000)
            return None
        if fault.mode == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_client_gone(request), HANG_SECONDS)
            fault = fault.model_copy(update={"status": 504})
        error = StripeError(
            fault.status,
            "api_error",
            f"The sandbox injected a failure for {request.method} {request.url.path}.",
        )
        return _json(fault.status, error.body(), headers)


async def _client_gone(request: Request) -> None:
    """Wait until the client closes the connection (its body was read already, so nothing else comes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def create_app(settings: PaymentSandboxSettings) -> Starlette:
    sandbox = PaymentSandbox(settings)

    def route(endpoint: Endpoint) -> Route:
        async def handler(request: Request) -> Response:
            return await sandbox.handle(request, endpoint)

        return Route(endpoint.path, handler, methods=[endpoint.method])

    async def preflight(request: Request) -> Response:
        """Browsers ask before sending `Authorization`; the answer is the same for every path."""
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def add_fault(request: Request) -> Response:
        try:
            sandbox.require_secret_key(request)
            spec = FaultSpec.model_validate_json(await request.body())
        except StripeError as error:
            return _json(error.status, error.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            param = ".".join(str(part) for part in first["loc"]) or None
            return _json(400, invalid(f"Invalid fault: {first['msg']}", param=param).body())
        return _json(201, sandbox.faults.add(spec).describe())

    async def list_faults(request: Request) -> Response:
        try:
            sandbox.require_secret_key(request)
        except StripeError as error:
            return _json(error.status, error.body())
        return _json(200, {"object": "list", "data": sandbox.faults.describe()})

    async def clear_faults(request: Request) -> Response:
        try:
            sandbox.require_secret_key(request)
        except StripeError as error:
            return _json(error.status, error.body())
        sandbox.faults.clear()
        return _json(200, {"deleted": True})

    async def not_found(request: Request, exc: Exception) -> Response:
        message = f"Unrecognized request URL ({request.method}: {request.url.path})."
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status not in (404, 405):
            return _json(status, StripeError(status, "api_error", "An unknown error occurred.").body())
        return _json(404, invalid(message).body(), CORS_HEADERS)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _json(500, StripeError(500, "api_error", "An unknown error occurred in the sandbox.").body())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = asyncio.create_task(sandbox.webhooks.run(), name="webhook-dispatcher")
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            sandbox.store.close()

    routes = [
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/faults", add_fault, methods=["POST"]),
        Route("/_sandbox/faults", list_faults, methods=["GET"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/v1/{path:path}", preflight, methods=["OPTIONS"]),
        *(route(endpoint) for endpoint in ENDPOINTS),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: not_found, Exception: server_error},
    )
    app.state.sandbox = sandbox
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per webhook attempt is noise
    settings = PaymentSandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,  # a hung request (fault injection) must not block a stop
    )


if __name__ == "__main__":
    main()
