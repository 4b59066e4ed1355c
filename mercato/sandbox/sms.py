"""A Twilio-compatible SMS provider sandbox: the stand-in for Twilio's Messaging API in local runs and tests.

It answers the part of Twilio's REST API that sending SMS needs (create, fetch and list Message
resources under `/2010-04-01/Accounts/{AccountSid}/`), form-encoded in and JSON out, with Twilio's
HTTP Basic authentication, error bodies and codes, paging and magic test numbers, so the official
`twilio` SDK talks to it unchanged once its requests go to this host instead of `api.twilio.com`
(`mercato.services.notifications.sms.TwilioSms(api_base_url=...)` does that). Nothing is delivered:
every accepted message is stored, answered as `queued`, and shown as `sent` afterwards. A create
carrying an `I-Twilio-Idempotency-Token` header is answered once and replayed for 24 hours (the
twilio SDK itself sends no such header on Messages; a raw HTTP client can).

Under `/_sandbox/` it adds what Twilio can't offer: a readiness probe and the stored messages as plain
JSON for tests (`GET /_sandbox/messages?to=+4915...`, `DELETE /_sandbox/messages`); `GET /` lists
them for a human.

Run it with `python -m mercato.sandbox.sms` (`mercato up` does); settings come from
`MERCATO_SMS_SANDBOX_*` environment variables.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from mercato.sandbox.sms_store import SavedResponse, Store
from mercato.sandbox.sms_wire import (
    API_VERSION,
    TwilioError,
    as_sent,
    authenticate_error,
    message_resource,
    new_sid,
    not_found,
    now,
    validate_message,
)
from mercato.topology import HOST, Topology, var_dir

log = logging.getLogger("mercato.sandbox.sms")

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class SmsSandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_SMS_SANDBOX_", extra="ignore")

    port: int = Field(default_factory=lambda: Topology.from_env().sms_sandbox_port)
    database: Path = Field(default_factory=lambda: var_dir() / "sandbox" / "sms.db")
    # Test credentials, public by design: the sandbox sends nothing.
    account_sid: str = Field(default="AC" + "mercatosandbox".ljust(32, "0"), pattern=r"^AC\w{32}$")
    auth_token: str = "mercato_sandbox_token"  # noqa: S105


def _json(status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, str) else json.dumps(body, indent=2)
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _error(error: TwilioError) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
    return _json(error.status, error.body(), headers)


class SmsSandbox:
    def __init__(self, settings: SmsSandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.database)

    # --- authentication: HTTP Basic with the account SID and auth token -------------------------
    def authenticate(self, request: Request) -> str:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise authenticate_error()
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise authenticate_error() from None
        username, _, password = decoded.partition(":")
        user_ok = hmac.compare_digest(username.encode(), self.settings.account_sid.encode())
        token_ok = hmac.compare_digest(password.encode(), self.settings.auth_token.encode())
        if not (user_ok and token_ok):
            raise authenticate_error()
        if request.path_params.get("account_sid") != username:
            raise not_found(request.url.path)
        return username

    # --- the Messages resource -------------------------------------------------------------------
    async def create(self, request: Request, account_sid: str) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        token = request.headers.get(IDEMPOTENCY_HEADER)
        if token:
            saved = self.store.saved_response(account_sid, token, time.time() - IDEMPOTENCY_WINDOW_SECONDS)
            if saved is not None:
                return _json(saved.status, saved.body, {IDEMPOTENCY_HEADER: token})
        to, sender, service, body, num_media = validate_message(form)
        created = now()
        resource = message_resource(
            sid=new_sid("SM"),
            account_sid=account_sid,
            to=to,
            sender=sender,
            service=service,
            body=body,
            num_media=num_media,
            created=created,
        )
        answer = json.dumps(resource, indent=2)
        with self.store.transaction():  # no await inside: one create at a time, with its token
            self.store.add(as_sent(resource, created))
            if token:
                self.store.save_response(account_sid, token, SavedResponse(201, answer), time.time())
        log.info("SMS %s to %s: %r", resource["sid"], to, body[:80])
        return _json(201, answer, {IDEMPOTENCY_HEADER: token} if token else None)

    async def fetch(self, request: Request, account_sid: str) -> Response:
        message = self.store.get(account_sid, request.path_params["sid"])
        if message is None:
            raise not_found(request.url.path)
        return _json(200, message)

    async def list_messages(self, request: Request, account_sid: str) -> Response:
        query = request.query_params
        try:
            size = min(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
            number = int(query.get("Page", 0))
            token = query.get("PageToken")
            before = int(token.removeprefix("PT")) if token else None
        except ValueError:
            raise TwilioError(400, 20001, "Invalid paging parameters") from None
        if size < 1 or number < 0:
            raise TwilioError(400, 20001, "Invalid paging parameters")
        filters = {name: query[name] for name in ("To", "From") if query.get(name)}
        page = self.store.page(
            account_sid, to=filters.get("To"), sender=filters.get("From"), before=before, size=size
        )
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

        def uri(page_number: int, page_token: int | None = None) -> str:
            params: dict[str, Any] = {**filters, "PageSize": size, "Page": page_number}
            if page_token is not None:
                params["PageToken"] = f"PT{page_token}"
            return f"{path}?{urlencode(params)}"

        start = number * size
        return _json(
            200,
            {
                "messages": page.messages,
                "start": start,
                "end": start + max(len(page.messages) - 1, 0),
                "page": number,
                "page_size": size,
                "first_page_uri": uri(0),
                "previous_page_uri": None,
                "next_page_uri": uri(number + 1, page.next_before) if page.next_before is not None else None,
                "uri": uri(number, before),
            },
        )


# --- a small page for humans ---------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SMS sandbox</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
th {{ background: #f4f4f4; }} td.body {{ white-space: pre-wrap; }} .muted {{ color: #777; }}
</style></head>
<body><h1>SMS sandbox</h1><p class="muted">{count} message(s), newest first. Account {account}.</p>
<table><thead><tr><th>Created</th><th>From</th><th>To</th><th>Status</th><th>Parts</th><th>Body</th>
</tr></thead><tbody>{rows}</tbody></table></body></html>
"""


def _html_list(messages: list[dict[str, Any]], account_sid: str) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(message.get(field) or ''))}</td>"
            for field in ("date_created", "from", "to", "status", "num_segments")
        )
        + f'<td class="body">{escape(message.get("body") or "")}</td></tr>'
        for message in messages
    )
    empty = '<tr><td colspan="6" class="muted">No messages yet.</td></tr>'
    return PAGE.format(count=len(messages), account=escape(account_sid), rows=rows or empty)


def create_app(settings: SmsSandboxSettings) -> Starlette:
    sandbox = SmsSandbox(settings)

    def api(
        operation: Callable[[Request, str], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            headers = {"Twilio-Request-Id": new_sid("RQ")}
            try:
                response = await operation(request, sandbox.authenticate(request))
            except TwilioError as error:
                response = _error(error)
            response.headers.update(headers)
            return response

        return handler

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def sandbox_messages(request: Request) -> Response:
        to = request.query_params.get("to") or None
        page = sandbox.store.page(None, to=to, size=MAX_PAGE_SIZE)
        return JSONResponse({"data": page.messages})

    async def clear_messages(request: Request) -> Response:
        return JSONResponse({"deleted": sandbox.store.clear()})

    async def index(request: Request) -> Response:
        page = sandbox.store.page(None, size=200)
        return HTMLResponse(
            _html_list(page.messages, settings.account_sid),
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return _error(TwilioError(405, 20004, "Method not allowed"))
        if status == 404:
            return _error(not_found(request.url.path))
        return _error(TwilioError(status, 20500, "An internal server error has occurred"))

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error(TwilioError(500, 20500, "An internal server error has occurred in the sandbox"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            sandbox.store.close()

    messages = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"
    routes = [
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/messages", sandbox_messages, methods=["GET"]),
        Route("/_sandbox/messages", clear_messages, methods=["DELETE"]),
        Route("/", index, methods=["GET"]),
        Route(f"{messages}.json", api(sandbox.create), methods=["POST"]),
        Route(f"{messages}.json", api(sandbox.list_messages), methods=["GET"]),
        Route(f"{messages}/{{sid}}.json", api(sandbox.fetch), methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.sandbox = sandbox
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = SmsSandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=HOST,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
