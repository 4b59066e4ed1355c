"""The notifications service in-process on a real database, writing through real providers: the SMTP
sink, the Twilio-compatible SMS sandbox and the APNs and FCM stand-ins, each a real subprocess on its
own ports.

With the broker off (tests/conftest.py), a test hands events to the real consumer kernel itself —
`Service.deliver(...)` is `app.state.consumer.on_deliveries(...)`: handlers, inbox, retries and dead
letters all run, and what the kernel hands back for a retry is delivered again after its delay, as a
broker does — and the app's own dispatcher sends what they wrote, after commit, as in production.
(tests/notifications/test_broker.py runs the service on a real NATS JetStream.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from mercato.platform.messaging import Delivery
from mercato.services.notifications.main import build_app
from mercato.services.notifications.settings import NotificationsSettings
from mercato.topology import Topology
from tests.notifications.factories import delivery, envelope
from tests.sandbox.processes import StandIn

MAIL_TOPOLOGY = Topology(offset=17200)  # ports below the ephemeral range, clear of other tests
SMS_TOPOLOGY = Topology(offset=17300)
PUSH_TOPOLOGY = Topology(offset=17400)
DEADLINE_SECONDS = 15.0

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float = DEADLINE_SECONDS,
    what: str = "condition",
) -> T:
    """Poll `probe` until `done(result)`, or fail at the deadline with the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s; last seen: {result!r}")
        await asyncio.sleep(0.05)


class Provider(StandIn):
    """A provider stand-in run as a real process (`python -m <module>`) on the ports of `topology`."""

    def __init__(
        self,
        *,
        module: str,
        topology: Topology,
        env: dict[str, str],
        log_file: Path,
        web_url: str,
        ports: tuple[int, ...],
    ) -> None:
        super().__init__(
            module=module,
            env={"MERCATO_PORT_OFFSET": str(topology.offset), **env},
            health_url=f"{web_url}/_sandbox/health",
            log_file=log_file,
            ports_to_check=ports,
        )
        self.topology = topology
        self.web_url = web_url


class MailSink(Provider):
    @property
    def smtp_port(self) -> int:
        return self.topology.mail_sink_smtp_port

    async def messages(self, to: str) -> list[dict[str, Any]]:
        """The mails to `to`, newest first."""
        async with httpx.AsyncClient(base_url=self.web_url) as client:
            response = await client.get("/api/messages", params={"to": to})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def wait_for(self, to: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `to` has at least `count` mails; returns them, newest first."""
        return await eventually(
            lambda: self.messages(to), lambda found: len(found) >= count, what=f"{count} mail(s) to {to}"
        )


class SmsSandbox(Provider):
    async def messages(self, to: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.web_url) as client:
            response = await client.get("/_sandbox/messages", params={"to": to})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def wait_for(self, to: str, count: int = 1) -> list[dict[str, Any]]:
        return await eventually(
            lambda: self.messages(to), lambda found: len(found) >= count, what=f"{count} SMS to {to}"
        )


class PushSandbox(Provider):
    """The APNs and FCM stand-ins (`mercato.sandbox.push`), with their credentials in `keys_dir`."""

    keys_dir: Path

    async def pushes(self, token: str) -> list[dict[str, Any]]:
        """What the stand-ins received for `token` (accepted or not), newest first."""
        async with httpx.AsyncClient(base_url=self.web_url) as client:
            response = await client.get("/_sandbox/pushes", params={"token": token})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def wait_for(self, token: str, count: int = 1) -> list[dict[str, Any]]:
        return await eventually(
            lambda: self.pushes(token), lambda found: len(found) >= count, what=f"{count} push(es) to {token}"
        )

    async def unregister(self, token: str) -> None:
        """The app was uninstalled: from now on the providers say the token is gone."""
        async with httpx.AsyncClient(base_url=self.web_url) as client:
            response = await client.post("/_sandbox/unregistered", json={"token": token})
        assert response.status_code == 200, response.text

    def settings(self) -> dict[str, Any]:
        """NotificationsSettings that send to these stand-ins, with their credentials."""
        return {
            "apns_host": "127.0.0.1",
            "apns_port": self.topology.push_sandbox_apns_port,
            "apns_key_file": self.keys_dir / "push-sandbox-apns-key.p8",
            "apns_key_id": "MERCATO0KY",
            "apns_team_id": "MERCATO0TM",
            "apns_ca_file": self.keys_dir / "push-sandbox-tls.pem",
            "fcm_base_url": self.web_url,
            "fcm_project_id": "mercato-sandbox",
            "fcm_service_account_file": self.keys_dir / "push-sandbox-fcm-service-account.json",
            "fcm_token_uri": f"{self.web_url}/token",
        }


@pytest.fixture(scope="module")
def push_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushSandbox]:
    root = tmp_path_factory.mktemp("push-sandbox")
    sandbox = PushSandbox(
        module="mercato.sandbox.push",
        topology=PUSH_TOPOLOGY,
        env={"MERCATO_PUSH_SANDBOX_KEYS_DIR": str(root / "keys")},
        log_file=root / "sandbox.log",
        web_url=PUSH_TOPOLOGY.push_sandbox_url,
        ports=(PUSH_TOPOLOGY.push_sandbox_port, PUSH_TOPOLOGY.push_sandbox_apns_port),
    )
    sandbox.keys_dir = root / "keys"
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailSink]:
    root = tmp_path_factory.mktemp("mail-sink")
    sink = MailSink(
        module="mercato.sandbox.mail",
        topology=MAIL_TOPOLOGY,
        env={"MERCATO_MAIL_SINK_MAILDIR": str(root / "maildir")},
        log_file=root / "sink.log",
        web_url=MAIL_TOPOLOGY.mail_sink_web_url,
        ports=(MAIL_TOPOLOGY.mail_sink_smtp_port, MAIL_TOPOLOGY.mail_sink_web_port),
    )
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def sms_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSandbox]:
    root = tmp_path_factory.mktemp("sms-sandbox")
    sandbox = SmsSandbox(
        module="mercato.sandbox.sms",
        topology=SMS_TOPOLOGY,
        env={"MERCATO_SMS_SANDBOX_DATABASE": str(root / "sms.db")},
        log_file=root / "sandbox.log",
        web_url=SMS_TOPOLOGY.sms_sandbox_url,
        ports=(SMS_TOPOLOGY.sms_sandbox_port,),
    )
    sandbox.start()
    yield sandbox
    sandbox.stop()


@dataclass
class Service:
    """The running notifications app and what a test does with it."""

    app: FastAPI
    client: httpx.AsyncClient

    async def deliver(self, *envelopes: dict[str, Any]) -> None:
        """Hand envelopes to the consumer as one broker batch; then, as a broker would, deliver again
        what it handed back for a retry, once its delay has passed, until nothing comes back."""
        deliveries = [delivery(e) for e in envelopes]
        while deliveries:
            await self.app.state.consumer.on_deliveries(deliveries)
            again = [d for d in deliveries if d.retry_after is not None]
            if again:
                await asyncio.sleep(max(d.retry_after or 0.0 for d in again))
            deliveries = [Delivery(d.body, d.headers, attempt=d.attempt + 1) for d in again]

    async def publish(self, *events: Any) -> list[dict[str, Any]]:
        """Deliver each event in its own batch (as separate broker deliveries); returns the envelopes."""
        sent = []
        for event in events:
            sent.append(envelope(event))
            await self.deliver(sent[-1])
        return sent

    async def messages(self, **query: str) -> list[dict[str, Any]]:
        """The sent log (GET /internal/messages), newest first."""
        response = await self.client.get("/internal/messages", params=query)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def settled(self, **query: str) -> list[dict[str, Any]]:
        """The sent log once nothing in it is waiting to be sent any more."""
        return await eventually(
            lambda: self.messages(**query),
            lambda rows: all(row["status"] not in ("pending", "sending") for row in rows),
            what="every message sent",
        )

    async def register_device(self, customer_id: str | None, platform: str, token: str) -> httpx.Response:
        """POST /mobile/v1/devices as the gateway forwards it for a shopper (None: not signed in)."""
        headers = {"x-mercato-customer-id": customer_id, "x-mercato-token-issued-at": str(int(time.time()))}
        return await self.client.post(
            "/mobile/v1/devices",
            json={"platform": platform, "token": token},
            headers={k: v for k, v in headers.items() if customer_id is not None},
        )

    async def unregister_device(self, customer_id: str | None, token: str) -> httpx.Response:
        headers = {"x-mercato-customer-id": customer_id} if customer_id else {}
        return await self.client.delete(f"/mobile/v1/devices/{token}", headers=headers)

    async def communications(self, customer_id: str) -> dict[str, Any]:
        """GET /internal/customers/{id}/communications: their devices and messages."""
        response = await self.client.get(f"/internal/customers/{customer_id}/communications")
        assert response.status_code == 200, response.text
        return response.json()

    async def dead_letters(self) -> list[dict[str, Any]]:
        response = await self.client.get("/internal/dead-letters")
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture
def running_notifications(
    databases, backend, mail_sink, sms_sandbox, push_sandbox
) -> Callable[..., AbstractAsyncContextManager[Service]]:
    """Starts the service on a fresh database with the stand-ins; keyword arguments change settings."""

    @asynccontextmanager
    async def running(**overrides: Any) -> AsyncIterator[Service]:
        settings = NotificationsSettings(
            environment="test",
            database_url=await databases.fresh("notifications", backend),
            cursor_secret="test-cursor-secret",
            smtp_port=mail_sink.smtp_port,
            smtp_timeout_seconds=2,
            twilio_api_base_url=sms_sandbox.web_url,
            dispatch_interval_seconds=0.2,
            dispatch_retry_base_seconds=0.2,
            **push_sandbox.settings() | overrides,
        )
        app = build_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://notifications"
            ) as client,
        ):
            yield Service(app, client)

    return running


@pytest.fixture
async def notifications(running_notifications) -> AsyncIterator[Service]:
    async with running_notifications() as service:
        yield service
