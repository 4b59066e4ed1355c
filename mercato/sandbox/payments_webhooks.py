"""Webhook delivery as Stripe does it: signed, in the background, retried with backoff, at least once.

Events are written to an outbox table in the same transaction as the change they describe, so a
delivery is never lost to a crash or a restart, and a receiver that is down never fails the API call
that caused the event. Each attempt is signed afresh (`Stripe-Signature: t=<now>,v1=<hmac>`), because
receivers reject signatures older than their tolerance (five minutes in stripe-python).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time

import httpx

from mercato.sandbox.payments_store import Delivery, Store

log = logging.getLogger("mercato.sandbox.payments.webhooks")

FIRST_RETRY_SECONDS = 0.5  # Stripe waits hours; a sandbox that tests redelivery can't
MAX_RETRY_SECONDS = 60.0
GIVE_UP_AFTER_ATTEMPTS = 50  # about 45 minutes at the capped interval
BATCH = 16
ATTEMPT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    """Stripe's scheme: hex HMAC-SHA256, keyed by the endpoint secret, of `"{t}.{payload}"`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> float:
    """Exponential backoff after the `attempts`-th failure."""
    return min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)


class WebhookDispatcher:
    """Drains the outbox: delivers due events, reschedules failures, sleeps until the next one is due."""

    def __init__(self, store: Store, secret: str) -> None:
        self._store = store
        self._secret = secret
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a transaction that enqueued events, so they go out now rather than at the tick."""
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT, follow_redirects=False) as client:
            while True:
                due = self._store.due_deliveries(time.time(), BATCH)
                if due:
                    await asyncio.gather(*(self._attempt(client, delivery) for delivery in due))
                    continue
                next_at = self._store.next_delivery_at()
                timeout = 1.0 if next_at is None else max(0.0, min(1.0, next_at - time.time()))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(delivery.payload, self._secret, int(time.time())),
        }
        try:
            response = await client.post(delivery.url, content=delivery.payload.encode(), headers=headers)
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        except Exception as exc:  # any failure to deliver (refused, timeout, bad URL) is retried
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self._store.delivery_succeeded(delivery.event_id, time.time())
            return
        attempts = delivery.attempts + 1
        if attempts >= GIVE_UP_AFTER_ATTEMPTS:
            log.warning("webhook %s abandoned after %d attempts: %s", delivery.event_id, attempts, error)
            self._store.delivery_failed(delivery.event_id, None, error)
        else:
            delay = retry_delay(attempts)
            log.info(
                "webhook %s attempt %d failed (%s); retrying in %.1fs",
                delivery.event_id,
                attempts,
                error,
                delay,
            )
            self._store.delivery_failed(delivery.event_id, time.time() + delay, error)
