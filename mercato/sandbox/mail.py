"""An SMTP sink: the stand-in for a mail provider's SMTP relay in local runs and tests.

One process, one asyncio loop, two listeners:

* SMTP (aiosmtpd) on `mail_sink_smtp_port`: plain SMTP, no TLS, no authentication needed (AUTH PLAIN
  and LOGIN are offered and any credentials are accepted, so a client configured for a real relay
  works unchanged). Every message is accepted, never relayed, and stored in a Maildir (stdlib
  `mailbox.Maildir`, readable by any mail tool and kept across restarts) with its envelope prepended
  as trace headers: `Return-Path`, `X-Sandbox-Envelope-To` (every RCPT TO, Bcc included) and
  `Received`.
* HTTP (uvicorn + starlette) on `mail_sink_web_port`: `/_sandbox/health`; a JSON API for tests,
  `GET /api/messages?to=&subject=&limit=` (newest first), `GET /api/messages/{id}`,
  `GET /api/messages/{id}/raw` and `DELETE /api/messages`; and a small HTML inbox at `/` for humans,
  which shows a message's HTML part in a sandboxed iframe (no scripts, no same origin).

The SMTP server starts in the web app's lifespan, so the health probe answers only once both listen.
Run it with `python -m mercato.sandbox.mail` (`mercato up` does); settings come from
`MERCATO_MAIL_SINK_*` environment variables, the Maildir from `MERCATO_MAIL_SINK_MAILDIR`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import mailbox
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from mercato.topology import HOST, Topology, var_dir

log = logging.getLogger("mercato.sandbox.mail")

ENVELOPE_TO_HEADER = "X-Sandbox-Envelope-To"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
# Pages are static: no script runs, neither in them nor in a mail's HTML part (the srcdoc iframe
# inherits this policy on top of its own sandbox). Styles and images in mails are left alone.
PAGE_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
# Python's Maildir names files `<seconds>.M<microseconds>P<pid>Q<counter>.<host>`: delivery order.
_KEY_ORDER = re.compile(r"^(\d+)(?:\.M(\d+)P\d+Q(\d+))?")


class MailSinkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_MAIL_SINK_", extra="ignore")

    host: str = HOST  # 0.0.0.0 in a container, so the notifications service's container reaches it
    smtp_port: int = Field(default_factory=lambda: Topology.from_env().mail_sink_smtp_port)
    web_port: int = Field(default_factory=lambda: Topology.from_env().mail_sink_web_port)
    maildir: Path = Field(default_factory=lambda: var_dir() / "mail")
    hostname: str = "mail-sink.mercato.test"  # the SMTP greeting; avoids a DNS lookup per connection
    max_message_bytes: int = 32 * 1024 * 1024


# --- the Maildir -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    order: tuple[int, ...]  # (seconds, microseconds, counter) from the Maildir name
    data: dict[str, Any]  # the JSON the API answers


class MailStore:
    """The Maildir, and a cache of parsed messages (a Maildir message never changes, so a key parsed
    once stays valid until it is deleted). All calls come from the one event loop thread."""

    def __init__(self, path: Path, hostname: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(path, factory=None, create=True)
        self._hostname = hostname
        self._parsed: dict[str, Mail] = {}

    def deliver(self, *, mail_from: str, recipients: list[str], content: bytes, peer: str, helo: str) -> str:
        received = format_datetime(datetime.now(UTC))
        folded_recipients = ",\n ".join(recipients)  # one header, folded: a line per recipient
        trace = (
            f"Return-Path: <{mail_from}>\n"
            f"{ENVELOPE_TO_HEADER}: {folded_recipients}\n"
            f"Received: from {helo or 'unknown'} ([{peer}]) by {self._hostname} with ESMTP; {received}\n"
        )
        # Maildir holds LF-terminated files; Maildir.add writes to tmp/ and renames into new/, so a
        # reader never sees half a message.
        return self._box.add(trace.encode() + content.replace(b"\r\n", b"\n"))

    def messages(self) -> list[dict[str, Any]]:
        """Every message, newest first."""
        keys = self._box.keys()  # re-reads the directories when they changed
        for gone in self._parsed.keys() - set(keys):
            del self._parsed[gone]
        mails = [mail for key in keys if (mail := self._load(key)) is not None]
        return [mail.data for mail in sorted(mails, key=lambda mail: mail.order, reverse=True)]

    def get(self, key: str) -> dict[str, Any] | None:
        mail = self._load(key)
        return mail.data if mail else None

    def raw(self, key: str) -> bytes | None:
        try:
            return self._box.get_bytes(key)
        except KeyError:
            return None

    def clear(self) -> int:
        keys = self._box.keys()
        for key in keys:
            self._box.discard(key)
        self._parsed.clear()
        return len(keys)

    def _load(self, key: str) -> Mail | None:
        if key not in self._parsed:
            raw = self.raw(key)
            if raw is None:
                return None
            match = _KEY_ORDER.match(key)
            order = tuple(int(part or 0) for part in match.groups()) if match else (0, 0, 0)
            received = datetime.fromtimestamp(order[0] + order[1] / 1e6, UTC).isoformat()
            try:
                data = {**describe(key, raw), "received_at": received}
            except Exception:  # a message too broken to parse is still listed, with its raw form
                log.exception("could not parse message %s", key)
                data = {
                    "id": key,
                    "message_id": None,
                    "from": "",
                    "to": [],
                    "envelope_from": None,
                    "subject": "(unparseable message)",
                    "date": None,
                    "text": None,
                    "html": None,
                    "attachments": [],
                    "headers": {},
                    "received_at": received,
                }
            self._parsed[key] = Mail(order, data)
        return self._parsed[key]


def describe(key: str, raw: bytes) -> dict[str, Any]:
    """A stored message as the API shows it: decoded headers (RFC 2047 words included), the
    recipients from the envelope, and the text and HTML bodies however deep in the MIME tree."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers: dict[str, str] = {}
    for name, value in message.items():  # a repeated header's values are joined, as in HTTP
        headers[name] = f"{headers[name]}, {value}" if name in headers else str(value)
    envelope = message.get_all(ENVELOPE_TO_HEADER) or message.get_all("To", []) + message.get_all("Cc", [])
    date = getattr(message["Date"], "datetime", None)
    return {
        "id": key,
        "message_id": str(message["Message-ID"]) if message["Message-ID"] else None,
        "from": str(message.get("From", "")),
        "to": [address for _, address in getaddresses([str(value) for value in envelope]) if address],
        "envelope_from": str(message.get("Return-Path", "")).strip("<>") or None,
        "subject": str(message.get("Subject", "")),
        "date": date.isoformat() if date else None,
        "text": _body(message, "plain"),
        "html": _body(message, "html"),
        "attachments": [
            {
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(part.get_payload(decode=True) or b""),
            }
            for part in message.iter_attachments()
            if isinstance(part, EmailMessage)
        ],
        "headers": headers,
    }


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


# --- SMTP --------------------------------------------------------------------------------------------


class SinkHandler:
    """aiosmtpd's handler: every RCPT is accepted (the default), every DATA is stored."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            key = self.store.deliver(
                mail_from=envelope.mail_from or "",
                recipients=list(envelope.rcpt_tos),
                content=envelope.original_content or b"",
                peer=peer,
                helo=session.host_name or "",
            )
        except OSError:
            log.exception("could not store a message")
            return "451 4.3.0 Requested action aborted: local error in processing"
        log.info("mail %s from %s to %s", key, envelope.mail_from, ", ".join(envelope.rcpt_tos))
        return f"250 2.0.0 Ok: stored as {key}"


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    return AuthResult(success=True)


# --- HTML --------------------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #222; max-width: 70rem; }
table { border-collapse: collapse; width: 100%; } a { color: #0b5fff; text-decoration: none; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; } .muted { color: #777; } pre { white-space: pre-wrap; background: #f8f8f8;
padding: 1rem; } iframe { width: 100%; height: 32rem; border: 1px solid #ddd; } dt { font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={"Content-Security-Policy": PAGE_CSP})


def _inbox(messages: list[dict[str, Any]], to: str, smtp_port: int) -> Response:
    rows = "".join(
        "<tr>"
        f"<td>{escape(message['date'] or message['received_at'])}</td>"
        f"<td>{escape(message['from'])}</td>"
        f"<td>{escape(', '.join(message['to']))}</td>"
        f'<td><a href="/messages/{quote(message["id"], safe="")}">'
        f"{escape(message['subject'] or '(no subject)')}</a></td></tr>"
        for message in messages
    )
    body = (
        f"<h1>Mail sink</h1><p class='muted'>{len(messages)} message(s), newest first. "
        f"SMTP on {HOST}:{smtp_port}.</p>"
        f'<form method="get" action="/"><input name="to" placeholder="recipient" value="{escape(to)}"> '
        "<button>Filter</button></form>"
        "<table><thead><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr></thead>"
        f"<tbody>{rows or '<tr><td colspan=4 class=muted>No messages.</td></tr>'}</tbody></table>"
    )
    return _page("Mail sink", body)


def _message_page(message: dict[str, Any]) -> Response:
    link = quote(message["id"], safe="")
    fields = [
        ("From", message["from"]),
        ("To (envelope)", ", ".join(message["to"])),
        ("Date", message["date"] or ""),
        ("Received", message["received_at"]),
        ("Message-ID", message["message_id"] or ""),
    ]
    parts = []
    if message["html"] is not None:  # srcdoc is an attribute: the whole document is escaped into it
        parts.append(
            '<h2>HTML</h2><iframe sandbox="allow-popups allow-popups-to-escape-sandbox" '
            f'referrerpolicy="no-referrer" srcdoc="{escape(message["html"])}"></iframe>'
        )
    if message["text"] is not None:
        parts.append(f"<h2>Text</h2><pre>{escape(message['text'])}</pre>")
    if message["attachments"]:
        items = "".join(
            f"<li>{escape(item['filename'] or '(unnamed)')} "
            f"({escape(item['content_type'])}, {item['size']} bytes)</li>"
            for item in message["attachments"]
        )
        parts.append(f"<h2>Attachments</h2><ul>{items}</ul>")
    headers = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>"
        for name, value in message["headers"].items()
    )
    body = (
        f'<p><a href="/">&larr; Inbox</a> &middot; <a href="/api/messages/{link}/raw">Raw</a></p>'
        f"<h1>{escape(message['subject'] or '(no subject)')}</h1>"
        f"<dl>{''.join(f'<dt>{escape(k)}</dt><dd>{escape(v)}</dd>' for k, v in fields)}</dl>"
        f"{''.join(parts)}<details><summary>All headers</summary><table>{headers}</table></details>"
    )
    return _page(message["subject"] or "(no subject)", body)


# --- the application ---------------------------------------------------------------------------------


def _select(messages: list[dict[str, Any]], to: str | None, subject: str | None) -> list[dict[str, Any]]:
    if to:
        messages = [m for m in messages if to.casefold() in (address.casefold() for address in m["to"])]
    if subject:
        messages = [m for m in messages if subject.casefold() in m["subject"].casefold()]
    return messages


def create_app(settings: MailSinkSettings) -> Starlette:
    store = MailStore(settings.maildir, settings.hostname)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_messages(request: Request) -> Response:
        query = request.query_params
        try:
            limit = int(query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            return JSONResponse({"error": f"limit must be an integer from 1 to {MAX_LIMIT}"}, status_code=400)
        selected = _select(store.messages(), query.get("to"), query.get("subject"))
        return JSONResponse({"data": selected[:limit]})

    async def get_message(request: Request) -> Response:
        message = store.get(request.path_params["id"])
        if message is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return JSONResponse(message)

    async def raw_message(request: Request) -> Response:
        raw = store.raw(request.path_params["id"])
        if raw is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return Response(raw, media_type="message/rfc822")

    async def clear(request: Request) -> Response:
        return JSONResponse({"deleted": store.clear()})

    async def inbox(request: Request) -> Response:
        to = request.query_params.get("to", "")
        return _inbox(_select(store.messages(), to, None)[:500], to, settings.smtp_port)

    async def message_page(request: Request) -> Response:
        message = store.get(request.path_params["id"])
        if message is None:
            return _page("Not found", '<p>No such message. <a href="/">Inbox</a></p>', status=404)
        return _message_page(message)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        handler = SinkHandler(store)

        def smtp() -> SMTP:
            return SMTP(
                handler,
                hostname=settings.hostname,
                ident="Mercato mail sink",
                enable_SMTPUTF8=True,
                data_size_limit=settings.max_message_bytes,
                auth_require_tls=False,  # offer AUTH on plain connections ...
                auth_required=False,  # ... but don't insist on it
                authenticator=_accept_any_login,
                loop=loop,
            )

        server = await loop.create_server(smtp, host=settings.host, port=settings.smtp_port)
        log.info("SMTP sink on %s:%d, storing in %s", settings.host, settings.smtp_port, settings.maildir)
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()

    routes = [
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/api/messages", list_messages, methods=["GET"]),
        Route("/api/messages", clear, methods=["DELETE"]),
        Route("/api/messages/{id}", get_message, methods=["GET"]),
        Route("/api/messages/{id}/raw", raw_message, methods=["GET"]),
        Route("/", inbox, methods=["GET"]),
        Route("/messages/{id}", message_page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = store
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    smtp_log = logging.getLogger("mail.log")  # aiosmtpd's: a line per SMTP command at INFO
    smtp_log.setLevel(logging.WARNING)
    # ... and a warning per AUTH about an attribute aiosmtpd itself still sets
    smtp_log.addFilter(lambda record: "login_data is deprecated" not in record.getMessage())
    settings = MailSinkSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.web_port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
