"""Writes that survive a flaky network without doing anything twice.

Every write carries an Idempotency-Key. The key is made once per intended write and kept, on disk, until
the server has answered it (any HTTP answer from the service). Network failures and the gateway's
502/503/504 are retried with exponential backoff under the same key; when the retries run out the write
stays pending with its key, and the next try (a tap on "Place order" once back online, even after the app
was restarted) sends the same key again, so the server returns the first result instead of buying twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from shop.errors import Offline
from shop.offline import Store

RETRYABLE_STATUS = {502, 503, 504}
NETWORK_ERRORS = (httpx.TransportError,)  # connect, read, write, timeouts, a connection cut mid-answer


@dataclass
class Backoff:
    attempts: int = 4
    first_delay: float = 0.25
    factor: float = 2.0
    max_delay: float = 4.0

    def delays(self):
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * self.factor, self.max_delay)


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class PendingWrites:
    """The Idempotency-Keys of writes not yet answered, by what the write is (method, path, body)."""

    def __init__(self, store: Store):
        self.store = store

    def key_for(self, method: str, path: str, body: object) -> str:
        pending = self.store.read("pending-writes") or {}
        fp = fingerprint(method, path, body)
        if fp not in pending:
            pending[fp] = uuid.uuid4().hex
            self.store.write("pending-writes", pending)
        return pending[fp]

    def answered(self, method: str, path: str, body: object) -> None:
        pending = self.store.read("pending-writes") or {}
        if pending.pop(fingerprint(method, path, body), None) is not None:
            self.store.write("pending-writes", pending)

    def keys(self) -> list[str]:
        return list((self.store.read("pending-writes") or {}).values())


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]], backoff: Backoff, sleep=asyncio.sleep
) -> httpx.Response:
    """Send until the service answers; raise Offline when every attempt failed on the way."""
    delays = backoff.delays()
    while True:
        try:
            response = await send()
            if response.status_code not in RETRYABLE_STATUS:
                return response
            failure: Exception = Offline(f"the gateway answered {response.status_code}")
        except NETWORK_ERRORS as error:
            failure = error
        delay = next(delays, None)
        if delay is None:
            raise Offline(str(failure) or type(failure).__name__) from failure
        await sleep(delay)
