"""The dispatcher: sends the messages consumers wrote, after their transaction committed.

Woken right after each commit that wrote messages (and every few seconds besides), it claims due
messages, sends them — e-mail over SMTP, SMS through Twilio, pushes through APNs or FCM — and records
the outcome. A provider
that is down is retried with exponential backoff up to `dispatch_max_attempts`; a permanent refusal
(no such mailbox, invalid number) fails the message at once. A push to a device its provider says is
gone (uninstalled app, replaced token) fails, and the device is removed in the same transaction.
Claims expire, so a message whose dispatcher died mid-send is sent again by another (with the same
Message-ID, or apns-id). An e-mail with an attachment (the confirmation's invoice) fetches it from orders
as it is sent: if orders cannot give it, the e-mail is retried like any other; its last attempt goes
without it rather than not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from mercato.platform import tracing
from mercato.platform.clients import RemoteProblem
from mercato.platform.db import Database
from mercato.platform.errors import ServiceUnavailable
from mercato.platform.metrics import Metrics
from mercato.services.notifications import mail, push
from mercato.services.notifications import repository as repo
from mercato.services.notifications.clients import Orders, Payments
from mercato.services.notifications.devices import token_hash
from mercato.services.notifications.giftcards import GIFT_CARD_CODE
from mercato.services.notifications.mail import Mailer
from mercato.services.notifications.models import Message
from mercato.services.notifications.settings import NotificationsSettings

log = logging.getLogger("mercato.notifications.dispatch")

CLAIM_SECONDS = 60.0
SENDING_AT_ONCE = 16  # messages handed to providers at the same time (e-mails still go one by one)


class SmsSender(Protocol):
    async def send(self, *, to: str, body: str) -> str: ...


class PushSender(Protocol):
    async def send(
        self, *, platform: str, message_id: str, token: str, title: str, body: str, data: dict[str, str]
    ) -> str: ...


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        settings: NotificationsSettings,
        mailer: Mailer,
        sms: SmsSender,
        sms_is_permanent: Any,
        pusher: PushSender,
        orders: Orders,
        payments: Payments | None = None,
        metrics: Metrics,
        batch_size: int = 100,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mailer = mailer
        self.sms = sms
        self.sms_is_permanent = sms_is_permanent
        self.pusher = pusher
        self.orders = orders
        self.payments = payments
        self.metrics = metrics
        self.messages = metrics.counter(
            "mercato_notifications_messages",
            "Messages handed to a provider, by channel, kind and outcome",
            ["channel", "kind", "outcome"],
        )
        self.batch_size = batch_size
        self.wakeup = asyncio.Event()
        self.sending = asyncio.Semaphore(SENDING_AT_ONCE)

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        while True:
            self.wakeup.clear()
            try:
                sent = await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch failed")
                sent = 0
            if sent < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.settings.dispatch_interval_seconds)

    async def dispatch_once(self) -> int:
        """Send one batch of due messages; returns how many were handled."""
        now = datetime.now(UTC)
        async with self.db.read() as session:
            due = await repo.due_messages(session, now, self.batch_size)
        if not due:
            return 0
        async with self.db.unit_of_work() as session:
            ids = await repo.claim(session, due, now=now, until=now + timedelta(seconds=CLAIM_SECONDS))
        claimed = [message for message in due if message.id in ids]
        # Side by side (at most `SENDING_AT_ONCE`): a provider that is slow or down — APNs refusing
        # connections, say — holds up only its own messages, and pushes share their HTTP/2 connection.
        outcomes = await asyncio.gather(*(self._bounded_send(message) for message in claimed))
        gone = [
            {"gone_hash": token_hash(message.to_address), "before": now}
            for message, outcome in zip(claimed, outcomes, strict=True)
            if outcome.pop("device_gone", False)
        ]
        if outcomes:
            async with self.db.unit_of_work() as session:
                await repo.mark(session, outcomes)
                await repo.forget_gone_devices(session, gone)
        return len(claimed)

    async def _bounded_send(self, message: Message) -> dict[str, Any]:
        async with self.sending:
            attributes = {"mercato.message_kind": message.kind, "mercato.channel": message.channel}
            with tracing.span(f"send {message.channel}", kind=tracing.CLIENT, attributes=attributes) as span:
                outcome = await self._send(message)
                if outcome["new_last_error"]:
                    tracing.failed(span, outcome["new_last_error"])
            return {"message_id": message.id, **outcome}

    async def _send(self, message: Message) -> dict[str, Any]:
        attempt = message.attempts + 1
        final_attempt = attempt >= self.settings.dispatch_max_attempts
        is_permanent = {"email": mail.is_permanent, "push": push.is_permanent}.get(
            message.channel, self.sms_is_permanent
        )
        try:
            if message.channel == "email":
                text, html = await self._with_gift_card_code(message)
                email = self.mailer.build(
                    message_id=message.id,
                    to=message.to_address,
                    subject=message.subject or "",
                    text=text,
                    html=html,
                    pdfs=await self._attachments(message, final=final_attempt),
                )
                provider, sending = "smtp", self.mailer.send(email)
            elif message.channel == "push":
                provider = "apns" if message.platform == "ios" else "fcm"
                sending = self.pusher.send(
                    platform=message.platform or "",
                    message_id=message.id,
                    token=message.to_address,
                    title=message.subject or "",
                    body=message.body_text,
                    data={"order_id": message.order_id or "", "type": message.kind},
                )
            else:
                provider, sending = "twilio", self.sms.send(to=message.to_address, body=message.body_text)
            provider_id = await self.metrics.provider_call(provider, "send", sending, refused=is_permanent)
        except Exception as exc:
            permanent = is_permanent(exc)
            final = permanent or final_attempt
            delay = min(300.0, self.settings.dispatch_retry_base_seconds * 2 ** (attempt - 1))
            self._count(message, "failed" if final else "retried")
            log.warning(
                "message not sent",
                extra={
                    "message_id": message.id,
                    "channel": message.channel,
                    "attempt": attempt,
                    "final": final,
                    "error": f"{type(exc).__name__}: {exc}"[:300],
                },
            )
            return {
                "device_gone": isinstance(exc, push.DeviceGone),
                "new_status": "failed" if final else "pending",
                "new_provider_id": None,
                "new_sent_at": None,
                "new_last_error": f"{type(exc).__name__}: {exc}"[:500],
                "new_next_attempt_at": datetime.now(UTC) + timedelta(seconds=delay),
            }
        self._count(message, "sent")
        now = datetime.now(UTC)
        return {
            "new_status": "sent",
            "new_provider_id": provider_id[:200],
            "new_sent_at": now,
            "new_last_error": None,
            "new_next_attempt_at": now,
        }

    async def _with_gift_card_code(self, message: Message) -> tuple[str, str | None]:
        """The e-mail's bodies, with the gift card's code it sends fetched from payments now (never
        stored here); payments unreachable, the e-mail waits for a later attempt."""
        if message.gift_card_id is None or self.payments is None:
            return message.body_text, message.body_html
        code = await self.payments.gift_card_code(message.gift_card_id)
        html = message.body_html.replace(GIFT_CARD_CODE, code) if message.body_html else None
        return message.body_text.replace(GIFT_CARD_CODE, code), html

    async def _attachments(self, message: Message, *, final: bool) -> list[tuple[str, bytes]]:
        """The order's invoice for an e-mail that attaches it. Orders unreachable, or not giving it: the
        e-mail waits for a later attempt — but its last attempt is sent without it (the order's page
        has the invoice too)."""
        if message.attachment is None or message.order_id is None:
            return []
        try:
            return [(f"{message.attachment}.pdf", await self.orders.invoice(message.order_id))]
        except (RemoteProblem, ServiceUnavailable):
            if not final:
                raise
            log.warning("e-mail sent without its invoice", extra={"message_id": message.id})
            return []

    def _count(self, message: Message, outcome: str) -> None:
        self.messages.labels(self.metrics.service, message.channel, message.kind, outcome).inc()
