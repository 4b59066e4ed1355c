"""The SMTP mail sink, run as a real process and fed by a real SMTP client (aiosmtplib).

What a notification e-mail goes through is pinned down end to end: SMTP delivery to several
recipients, storage in the Maildir (which must outlive the process), and the JSON API and HTML
inbox that tests and developers read it back from.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest

from mercato.topology import HOST, Topology
from tests.sandbox.processes import StandIn

TOPOLOGY = Topology(offset=17000)  # ports below the ephemeral range (32768+), clear of other tests


class Sink(StandIn):
    def __init__(self, topology: Topology, maildir: Path, log_file: Path) -> None:
        super().__init__(
            module="mercato.sandbox.mail",
            env={
                "MERCATO_PORT_OFFSET": str(topology.offset),
                "MERCATO_MAIL_SINK_MAILDIR": str(maildir),
            },
            health_url=f"{topology.mail_sink_web_url}/_sandbox/health",
            log_file=log_file,
        )
        self.topology = topology
        self.maildir = maildir

    @property
    def url(self) -> str:
        return self.topology.mail_sink_web_url

    @property
    def smtp_port(self) -> int:
        return self.topology.mail_sink_smtp_port

    def messages(self, **query: Any) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/messages", params=query)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def maildir_files(self) -> list[Path]:
        return [path for sub in ("new", "cur") for path in (self.maildir / sub).iterdir()]


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    root = tmp_path_factory.mktemp("mail-sink")
    sink = Sink(TOPOLOGY, root / "maildir", root / "sink.log")
    sink.start()
    yield sink
    sink.stop()


def _address() -> str:
    return f"kunde-{uuid.uuid4().hex[:10]}@example.com"


def _mail(to: list[str], subject: str, text: str = "Hello", html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Mercato <shop@mercato.test>"
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@mercato.test>"
    message["Date"] = "Tue, 03 Mar 2026 10:15:00 +0100"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def _send(
    sink: Sink, message: EmailMessage, recipients: list[str] | None = None, **options: Any
) -> None:
    await aiosmtplib.send(message, hostname=HOST, port=sink.smtp_port, recipients=recipients, **options)


def test_health(sink: Sink) -> None:
    response = httpx.get(f"{sink.url}/_sandbox/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_multipart_mail_to_two_recipients_is_stored_decoded(sink: Sink) -> None:
    first, second = _address(), _address()
    # Short enough for one encoded word: CPython <= 3.13 loses a space where it folds a long
    # non-ASCII subject into several (python/cpython#144156), a sender-side bug this test avoids.
    subject = "Bestätigung: Grüße aus Köln ✓"
    message = _mail(
        [first],  # the second recipient is a Bcc: only the envelope knows it
        subject,
        text="Danke für Ihre Bestellung über 12,50 €.",
        html="<p>Danke für Ihre <b>Bestellung</b> über 12,50&nbsp;€.</p>",
    )
    await _send(sink, message, recipients=[first, second])

    [stored] = sink.messages(to=second)
    assert stored["to"] == [first, second]
    assert stored["envelope_from"] == "shop@mercato.test"
    assert stored["subject"] == subject
    assert stored["from"] == "Mercato <shop@mercato.test>"
    assert stored["message_id"] == message["Message-ID"]
    assert stored["text"].strip() == "Danke für Ihre Bestellung über 12,50 €."
    assert stored["html"].strip() == "<p>Danke für Ihre <b>Bestellung</b> über 12,50&nbsp;€.</p>"
    assert stored["date"] == "2026-03-03T10:15:00+01:00"
    assert datetime.fromisoformat(stored["received_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert stored["headers"]["X-Sandbox-Envelope-To"] == f"{first}, {second}"
    assert sink.messages(to=first.upper()) == [stored]  # addresses match case-insensitively
    assert sink.messages(to=second, subject="GRÜSSE AUS") == [stored]  # case-folded: ß matches SS
    assert sink.messages(to=second, subject="Rechnung") == []

    # the subject went over the wire as RFC 2047 encoded words, and is stored that way
    raw = httpx.get(f"{sink.url}/api/messages/{stored['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert b"=?utf-8?" in raw.content
    parsed = email.message_from_bytes(raw.content, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert parsed["X-Sandbox-Envelope-To"] == f"{first}, {second}"

    assert httpx.get(f"{sink.url}/api/messages/{stored['id']}").json() == stored
    assert [path.name.startswith(stored["id"]) for path in sink.maildir_files()].count(True) == 1


async def test_auth_is_accepted_when_the_client_offers_it(sink: Sink) -> None:
    to = _address()
    await _send(sink, _mail([to], "with login"), username="mercato", password="anything", start_tls=False)
    assert [message["subject"] for message in sink.messages(to=to)] == ["with login"]


async def test_concurrent_deliveries_are_all_stored(sink: Sink) -> None:
    to = _address()
    await asyncio.gather(*(_send(sink, _mail([to], f"parallel {n}")) for n in range(20)))
    stored = sink.messages(to=to)
    assert sorted(message["subject"] for message in stored) == sorted(f"parallel {n}" for n in range(20))
    assert len({message["id"] for message in stored}) == 20
    assert len(sink.messages(to=to, limit=5)) == 5


async def test_newest_first(sink: Sink) -> None:
    to = _address()
    for n in range(3):
        await _send(sink, _mail([to], f"number {n}"))
    assert [message["subject"] for message in sink.messages(to=to)] == ["number 2", "number 1", "number 0"]


async def test_inbox_lists_mail_and_escapes_it(sink: Sink) -> None:
    to = _address()
    evil = "<script>alert('subject')</script> & more"
    html = '<p onclick="x()">Hi</p><script>alert("body")</script>'
    await _send(sink, _mail([to], evil, text="plain <b>text</b>", html=html))
    [stored] = sink.messages(to=to)

    inbox = httpx.get(f"{sink.url}/", params={"to": to})
    assert inbox.status_code == 200
    assert inbox.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in inbox.headers["content-security-policy"]
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt; &amp; more" in inbox.text
    assert "<script>" not in inbox.text
    assert to in inbox.text

    page = httpx.get(f"{sink.url}/messages/{stored['id']}")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "plain &lt;b&gt;text&lt;/b&gt;" in page.text
    srcdoc = (
        'srcdoc="&lt;p onclick=&quot;x()&quot;&gt;Hi&lt;/p&gt;'
        "&lt;script&gt;alert(&quot;body&quot;)&lt;/script&gt;"
    )
    assert srcdoc in page.text
    assert '<iframe sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text

    assert httpx.get(f"{sink.url}/messages/nope").status_code == 404
    assert httpx.get(f"{sink.url}/api/messages/nope").status_code == 404
    assert httpx.get(f"{sink.url}/api/messages/nope/raw").status_code == 404
    assert httpx.get(f"{sink.url}/api/messages", params={"limit": "0"}).status_code == 400


async def test_messages_survive_a_restart(sink: Sink) -> None:
    to = _address()
    await _send(sink, _mail([to], "kept"))
    [before] = sink.messages(to=to)
    assert any(path.name.startswith(before["id"]) for path in sink.maildir_files())

    sink.restart()

    assert sink.messages(to=to) == [before]
    await _send(sink, _mail([to], "after the restart"))
    assert [message["subject"] for message in sink.messages(to=to)] == ["after the restart", "kept"]


async def test_delete_clears_the_maildir(sink: Sink) -> None:
    await _send(sink, _mail([_address()], "to be deleted"))
    assert sink.messages()
    response = httpx.delete(f"{sink.url}/api/messages")
    assert response.status_code == 200
    assert response.json()["deleted"] >= 1
    assert sink.messages() == []
    assert sink.maildir_files() == []
