"""Push stand-ins: Apple's APNs provider API and Google's FCM HTTP v1, for local runs and tests.

One process, one asyncio loop, two listeners:

* APNs on `push_sandbox_apns_port` (`h2` directly, see `mercato.sandbox.push_h2`; the answers in
  `mercato.sandbox.push_apns`): HTTP/2 over TLS
  (ALPN `h2`) with the self-signed certificate of
  `mercato.sandbox.push_keys`, as api.push.apple.com:443. `POST /3/device/<token>` with token
  authentication: `authorization: bearer <JWT>` signed ES256 with the .p8 key (`kid` its key id, `iss`
  the team id, `iat` within the hour), `apns-topic` the app's bundle id, `apns-push-type`, and a JSON
  payload with an `aps` dictionary of at most 4 KB. It answers as Apple documents: 200 with the
  `apns-id`; 400 `BadDeviceToken`, `TopicDisallowed`, `InvalidPushType`, `BadPath`, `PayloadEmpty`;
  403 `MissingProviderToken`, `InvalidProviderToken`, `ExpiredProviderToken`; 413 `PayloadTooLarge`;
  410 `Unregistered` (with the `timestamp` since when) for a token it was told is gone. A client that
  does not speak HTTP/2 is disconnected (APNs speaks HTTP/2 only).
* Plain HTTP (uvicorn + starlette) on `push_sandbox_port`:
  - `POST /token`: Google's OAuth 2.0 token endpoint for service accounts (the JWT-bearer grant, RFC
    7523): the assertion must be signed RS256 by the service account's key, `iss` its e-mail, `aud`
    Google's token URL (what google-auth sends) or this endpoint's, `scope` the FCM scope. Answers
    `{access_token, expires_in, token_type}`.
  - `POST /v1/projects/<project>/messages:send`: FCM HTTP v1's send, with `Authorization: Bearer
    <access token from /token>`; `{"message": {"token", "notification": {title, body}, "data": {str:
    str}}}` → `{"name": "projects/<project>/messages/<id>"}`; 404 `NOT_FOUND` with `details[].errorCode
    = "UNREGISTERED"` for a token it was told is gone; 400 `INVALID_ARGUMENT`, 401 `UNAUTHENTICATED`,
    403 `PERMISSION_DENIED` (another project) as FCM answers.
  - For people and tests: `/` a web view of every push received by both stand-ins, newest first;
    `GET /_sandbox/pushes?token=&provider=` the same as JSON; `DELETE /_sandbox/pushes`;
    `POST /_sandbox/unregistered {"token": …}` makes a device token gone (the app was uninstalled):
    from then on APNs answers 410 and FCM 404 UNREGISTERED for it; `/_sandbox/health`.

Every request to the two provider APIs is kept (accepted or refused, with its status), in memory: a
restart starts empty. Run with `python -m mercato.sandbox.push` (`mercato up` does); settings from
`MERCATO_PUSH_SANDBOX_*`, credentials under `MERCATO_PUSH_SANDBOX_KEYS_DIR` (default var/keys).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mercato.sandbox import push_keys
from mercato.sandbox.push_apns import APNS_TOKEN, apns_handler
from mercato.sandbox.push_h2 import serve_h2, tls_context
from mercato.sandbox.push_view import page
from mercato.topology import HOST, Topology, var_dir

log = logging.getLogger("mercato.sandbox.push")

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# The audience Google's token endpoint expects (google-auth always sends it, wherever token_uri points).
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN_SECONDS = 3600
KEPT = 10_000


class PushSandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_PUSH_SANDBOX_", extra="ignore")

    apns_port: int = Field(default_factory=lambda: Topology.from_env().push_sandbox_apns_port)
    port: int = Field(default_factory=lambda: Topology.from_env().push_sandbox_port)
    keys_dir: Path = Field(default_factory=lambda: var_dir() / "keys")
    apns_topic: str = "org.mercato.shop"  # the bundle id of the app the key may push to


class Pushes:
    """What the stand-ins received, newest last, and the device tokens that are gone."""

    def __init__(self) -> None:
        self.received: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.gone: dict[str, int] = {}  # token -> since when (ms)
        self.access_tokens: dict[str, float] = {}  # FCM access token -> expiry (monotonic)

    def keep(self, provider: str, status: int, reason: str | None, **details: Any) -> None:
        self.received.append(
            {
                "id": uuid.uuid4().hex,
                "provider": provider,
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "status": status,
                "reason": reason,
                **details,
            }
        )

    def select(self, *, token: str | None, provider: str | None) -> list[dict[str, Any]]:
        return [
            push
            for push in reversed(self.received)
            if (token is None or push["token"] == token)
            and (provider is None or push["provider"] == provider)
        ]


# --- FCM --------------------------------------------------------------------------------------------


def _fcm_error(status: int, code: str, message: str, error_code: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if error_code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}
        ]
    return JSONResponse({"error": error}, status_code=status)


def fcm_routes(pushes: Pushes, settings: PushSandboxSettings) -> list[Route]:
    token_url = f"http://{HOST}:{settings.port}/token"

    async def token(request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != JWT_BEARER:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion", "")),
                push_keys.fcm_public_key(settings.keys_dir),
                algorithms=["RS256"],
                audience=[token_url, GOOGLE_TOKEN_URL],
                issuer=push_keys.FCM_CLIENT_EMAIL,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return JSONResponse({"error": "invalid_grant", "error_description": str(exc)}, status_code=400)
        if claims["exp"] - claims["iat"] > 3600 or FCM_SCOPE not in str(claims.get("scope", "")).split():
            return JSONResponse(
                {"error": "invalid_scope", "error_description": "not the FCM scope"}, status_code=400
            )
        access_token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        pushes.access_tokens[access_token] = time.monotonic() + ACCESS_TOKEN_SECONDS
        return JSONResponse(
            {"access_token": access_token, "expires_in": ACCESS_TOKEN_SECONDS - 1, "token_type": "Bearer"}
        )

    async def send(request: Request) -> Response:
        project = request.path_params["project"]
        authorization = request.headers.get("authorization", "")
        expiry = (
            pushes.access_tokens.get(authorization[7:])
            if authorization.lower().startswith("bearer ")
            else None
        )
        try:
            body = json.loads(await request.body())
            message = body["message"]
            device_token = message["token"]
            notification = message.get("notification") or {}
            data = message.get("data") or {}
            valid = isinstance(device_token, str) and device_token and isinstance(data, dict)
            valid = valid and all(isinstance(v, str) for v in data.values())
        except (ValueError, KeyError, TypeError):
            message, device_token, notification, data, valid = None, None, {}, {}, False
        bearer = "missing" if not authorization else "unknown" if expiry is None else "expired"
        if expiry is not None and expiry >= time.monotonic():
            bearer = "issued by /token"
        if expiry is None or expiry < time.monotonic():
            status, answer = (
                401,
                _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
            )
        elif project != push_keys.FCM_PROJECT_ID:
            status, answer = (
                403,
                _fcm_error(403, "PERMISSION_DENIED", f"Permission denied on project {project}."),
            )
        elif not valid:
            status, answer = 400, _fcm_error(400, "INVALID_ARGUMENT", "Invalid message.", "INVALID_ARGUMENT")
        elif device_token in pushes.gone:
            status, answer = (
                404,
                _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
            )
        else:
            name = f"projects/{project}/messages/0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"
            status, answer = 200, JSONResponse({"name": name})
        reason = None if status == 200 else json.loads(answer.body)["error"]["status"]
        pushes.keep(
            "fcm",
            status,
            reason,
            token=device_token if isinstance(device_token, str) else None,
            http_version=request.scope.get("http_version"),
            headers={"authorization": "Bearer …" if authorization else ""},
            bearer=bearer,
            title=notification.get("title") if isinstance(notification, dict) else None,
            body=notification.get("body") if isinstance(notification, dict) else None,
            data=data if isinstance(data, dict) else {},
            payload=message,
        )
        return answer

    return [
        Route("/token", token, methods=["POST"]),
        Route("/v1/projects/{project}/messages:send", send, methods=["POST"]),
    ]


# --- the sandbox's own endpoints ---------------------------------------------------------------------


def create_app(settings: PushSandboxSettings) -> Starlette:
    pushes = Pushes()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_pushes(request: Request) -> Response:
        query = request.query_params
        selected = pushes.select(token=query.get("token"), provider=query.get("provider"))
        return JSONResponse({"data": selected, "access_tokens_issued": len(pushes.access_tokens)})

    async def clear(request: Request) -> Response:
        pushes.received.clear()
        return Response(status_code=204)

    async def unregister(request: Request) -> Response:
        try:
            token = (await request.json())["token"]
            assert isinstance(token, str) and token
        except (ValueError, KeyError, TypeError, AssertionError):
            return JSONResponse({"error": 'expected {"token": "<device token>"}'}, status_code=400)
        pushes.gone[token.lower() if APNS_TOKEN.match(token) else token] = int(time.time() * 1000)
        return JSONResponse({"token": token, "unregistered": True})

    async def view(request: Request) -> Response:
        token = request.query_params.get("token") or None
        return page(pushes.select(token=token, provider=None), token=token or "", settings=settings)

    routes = [
        *fcm_routes(pushes, settings),
        Route("/_sandbox/health", health),
        Route("/_sandbox/pushes", list_pushes, methods=["GET"]),
        Route("/_sandbox/pushes", clear, methods=["DELETE"]),
        Route("/_sandbox/unregistered", unregister, methods=["POST"]),
        Route("/", view),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The APNs listener starts with the web app, so the health probe answers once both listen.
        context = tls_context(
            str(settings.keys_dir / push_keys.TLS_CERT), str(settings.keys_dir / push_keys.TLS_KEY)
        )
        server = await serve_h2(
            apns_handler(pushes, settings), host=HOST, port=settings.apns_port, context=context
        )
        log.info(
            "APNs stand-in on https://%s:%s (HTTP/2), FCM stand-in and pushes on http://%s:%s",
            HOST,
            settings.apns_port,
            HOST,
            settings.port,
        )
        try:
            yield
        finally:
            server.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.pushes = pushes
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = PushSandboxSettings()
    push_keys.ensure(settings.keys_dir, token_uri=f"http://{HOST}:{settings.port}/token")
    app = create_app(settings)
    uvicorn.run(
        app,
        host=HOST,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
