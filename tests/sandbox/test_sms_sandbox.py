"""The Twilio-compatible SMS sandbox, run as a real process and driven by the official `twilio` SDK.

Sending goes through `TwilioSms`, the notifications service's client (the SDK's asyncio support,
redirected to the sandbox); reading back goes through the SDK's own `messages.list`/`fetch`, sync and
async, so these tests pin down that the real client code works against the sandbox unchanged, and
that the client tells permanent refusals from transient failures.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from mercato.services.notifications.sms import TwilioSms, is_permanent, redirect_url
from mercato.topology import HOST, Topology
from tests.sandbox.processes import StandIn

ACCOUNT_SID = "AC" + "mercatosandbox".ljust(32, "0")
AUTH_TOKEN = "mercato_sandbox_token"
SENDER = "+15005550006"
TOPOLOGY = Topology(offset=17100)  # ports below the ephemeral range (32768+), clear of other tests


class Sandbox(StandIn):
    def __init__(self, topology: Topology, database: Path, log_file: Path) -> None:
        super().__init__(
            module="mercato.sandbox.sms",
            env={
                "MERCATO_PORT_OFFSET": str(topology.offset),
                "MERCATO_SMS_SANDBOX_DATABASE": str(database),
            },
            health_url=f"{topology.sms_sandbox_url}/_sandbox/health",
            log_file=log_file,
        )
        self.topology = topology
        self.database = database

    @property
    def url(self) -> str:
        return self.topology.sms_sandbox_url

    def stored(self, to: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_sandbox/messages", params={"to": to})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def sync_client(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> Client:
        """The SDK's blocking client (requests), pointed at the sandbox the same way `TwilioSms` is."""
        base = self.url

        class Redirecting(TwilioHttpClient):
            def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
                return super().request(method, redirect_url(url, base), *args, **kwargs)

        return Client(ACCOUNT_SID, auth_token, account_sid=account_sid, http_client=Redirecting())


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("sms-sandbox")
    sandbox = Sandbox(TOPOLOGY, root / "sms.db", root / "sandbox.log")
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
async def sms(sandbox: Sandbox) -> AsyncIterator[TwilioSms]:
    async with TwilioSms(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number=SENDER, api_base_url=sandbox.url
    ) as client:
        yield client


def _number() -> str:
    return f"+49151{uuid.uuid4().int % 10**8:08d}"


async def test_send_through_the_sdk_is_stored_and_listed(sandbox: Sandbox, sms: TwilioSms) -> None:
    to = _number()
    sid = await sms.send(to=to, body="Ihre Bestellung ist unterwegs ✓")
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)

    [stored] = sandbox.stored(to)
    assert stored["sid"] == sid
    assert stored["account_sid"] == ACCOUNT_SID
    assert (stored["from"], stored["to"], stored["body"]) == (SENDER, to, "Ihre Bestellung ist unterwegs ✓")
    assert stored["direction"] == "outbound-api"
    assert stored["num_segments"] == "1"
    assert stored["price"] is None and stored["error_code"] is None
    assert stored["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"

    client = sandbox.sync_client()
    [listed] = client.messages.list(to=to)
    assert (listed.sid, listed.to, listed.from_, listed.body) == (sid, to, SENDER, stored["body"])
    assert listed.status == "sent"
    assert listed.date_created is not None and listed.date_created.tzinfo is not None
    fetched = client.messages(sid).fetch()
    assert fetched.sid == sid and fetched.body == stored["body"]
    assert client.messages.list(to=_number()) == []


async def test_create_answers_a_queued_message_resource(sandbox: Sandbox) -> None:
    to = _number()
    response = httpx.post(
        f"{sandbox.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": to, "From": SENDER, "Body": "x" * 161},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["date_sent"] is None
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", body["date_created"])
    assert body["num_segments"] == "2"  # 161 GSM-7 characters
    assert response.headers["twilio-request-id"].startswith("RQ")


async def test_paging_through_the_async_sdk(sandbox: Sandbox, sms: TwilioSms) -> None:
    to = _number()
    sids = [await sms.send(to=to, body=f"part {n}") for n in range(3)]
    listed = await sms.client.messages.list_async(to=to, page_size=2)
    assert [message.sid for message in listed] == list(reversed(sids))  # newest first, over two pages
    page = await sms.client.messages.page_async(to=to, page_size=2)
    assert page.next_page_url is not None and "PageToken=" in page.next_page_url


async def test_idempotency_token_replays_the_first_answer(sandbox: Sandbox) -> None:
    to = _number()
    token = uuid.uuid4().hex

    def post() -> httpx.Response:
        return httpx.post(
            f"{sandbox.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"To": to, "From": SENDER, "Body": "only once"},
            headers={"I-Twilio-Idempotency-Token": token},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
        )

    first, second = post(), post()
    assert first.status_code == second.status_code == 201
    assert first.json()["sid"] == second.json()["sid"]
    assert len(sandbox.stored(to)) == 1


async def test_invalid_number_is_a_permanent_error(sms: TwilioSms) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await sms.send(to="0151 1234567", body="Hallo")
    assert caught.value.status == 400
    assert caught.value.code == 21211
    assert "is not a valid phone number" in caught.value.msg
    assert is_permanent(caught.value)


async def test_empty_body_and_magic_numbers_are_refused(sms: TwilioSms) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await sms.send(to=_number(), body="  ")
    assert (caught.value.status, caught.value.code) == (400, 21602)
    with pytest.raises(TwilioRestException) as caught:
        await sms.send(to="+15005550009", body="Hallo")  # Twilio's "not a mobile number" test number
    assert (caught.value.status, caught.value.code) == (400, 21614)
    assert is_permanent(caught.value)


async def test_wrong_token_is_refused_with_20003(sandbox: Sandbox) -> None:
    async with TwilioSms(
        account_sid=ACCOUNT_SID, auth_token="wrong", from_number=SENDER, api_base_url=sandbox.url
    ) as sms:
        to = _number()
        with pytest.raises(TwilioRestException) as caught:
            await sms.send(to=to, body="Hallo")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert not is_permanent(caught.value)  # an operator fixes the token; the message must still go out
    assert sandbox.stored(to) == []


async def test_another_account_is_not_found(sandbox: Sandbox) -> None:
    other = "AC" + "f" * 32
    with pytest.raises(TwilioRestException) as caught:
        sandbox.sync_client(account_sid=other).messages.create(to=_number(), from_=SENDER, body="Hallo")
    assert (caught.value.status, caught.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as caught:
        sandbox.sync_client().messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_sandbox_not_running_is_transient() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    async with TwilioSms(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=SENDER,
        api_base_url=f"http://{HOST}:{port}",
    ) as sms:
        with pytest.raises(aiohttp.ClientConnectionError) as caught:
            await sms.send(to=_number(), body="Hallo")
    assert not is_permanent(caught.value)
    assert not is_permanent(TwilioRestException(503, "uri", "unavailable", 20503))
    assert not is_permanent(TwilioRestException(429, "uri", "Too Many Requests", 20429))
    assert not is_permanent(TimeoutError())


async def test_messages_survive_a_restart(sandbox: Sandbox, sms: TwilioSms) -> None:
    to = _number()
    sid = await sms.send(to=to, body="kept")
    sandbox.restart()
    assert [message["sid"] for message in sandbox.stored(to)] == [sid]
    assert sandbox.sync_client().messages(sid).fetch().body == "kept"


async def test_html_list_escapes_bodies(sandbox: Sandbox, sms: TwilioSms) -> None:
    to = _number()
    await sms.send(to=to, body="<script>alert(1)</script>")
    page = httpx.get(f"{sandbox.url}/")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert to in page.text


def test_redirect_keeps_path_and_query_and_only_touches_twilio_hosts() -> None:
    base = "http://127.0.0.1:9999"
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B49&PageSize=2"
    assert redirect_url(url, base) == f"{base}/2010-04-01/Accounts/AC1/Messages.json?To=%2B49&PageSize=2"
    assert redirect_url("https://api.dublin.ie1.twilio.com/x", base) == f"{base}/x"
    assert redirect_url("https://example.com/x", base) == "https://example.com/x"
