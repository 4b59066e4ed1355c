"""The sandbox's state in one SQLite file, so payments, idempotency keys and pending webhooks survive a
restart exactly as they would at Stripe.

Objects are kept as the JSON documents the API returns (plus a private part the API never shows, such
as which test-card behaviour a PaymentMethod has). Every API operation runs in one transaction with its
idempotency record and its events, so a crash can't leave a capture without its saved response or its
webhook. The sandbox is one asyncio process and calls this synchronously, without awaiting inside a
transaction, so one connection is enough and operations can't interleave.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    private TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS objects_kind ON objects (kind);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    request_id TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    event_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    delivered REAL,  -- when it was accepted; -1 once retries were given up
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (delivered, next_attempt);
"""


@dataclass(frozen=True)
class SavedResponse:
    fingerprint: str
    status: int
    body: str
    request_id: str
    created: float


@dataclass(frozen=True)
class Delivery:
    event_id: str
    url: str
    payload: str
    attempts: int


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._depth = 0

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # --- API objects ------------------------------------------------------------------------------
    def insert(self, obj: dict[str, Any], private: dict[str, Any] | None = None) -> None:
        self._db.execute(
            "INSERT INTO objects (id, kind, data, private) VALUES (?, ?, ?, ?)",
            (obj["id"], obj["object"], json.dumps(obj), json.dumps(private or {})),
        )

    def update(self, obj: dict[str, Any]) -> None:
        self._db.execute("UPDATE objects SET data = ? WHERE id = ?", (json.dumps(obj), obj["id"]))

    def get(self, object_id: str, kind: str | None = None) -> dict[str, Any] | None:
        row = self._db.execute("SELECT kind, data FROM objects WHERE id = ?", (object_id,)).fetchone()
        if row is None or (kind is not None and row[0] != kind):
            return None
        return json.loads(row[1])

    def private(self, object_id: str) -> dict[str, Any]:
        row = self._db.execute("SELECT private FROM objects WHERE id = ?", (object_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind, newest first (by insertion, which breaks ties within a second)."""
        rows = self._db.execute("SELECT data FROM objects WHERE kind = ? ORDER BY rowid DESC", (kind,))
        return [json.loads(data) for (data,) in rows]

    # --- idempotency ------------------------------------------------------------------------------
    def saved_response(self, key: str, not_before: float) -> SavedResponse | None:
        """The first response given for `key`, unless it is older than `not_before` (then forgotten)."""
        self._db.execute("DELETE FROM idempotency WHERE created < ?", (not_before,))
        row = self._db.execute(
            "SELECT fingerprint, status, body, request_id, created FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return SavedResponse(*row) if row else None

    def save_response(self, key: str, response: SavedResponse) -> None:
        self._db.execute(
            "INSERT INTO idempotency (key, fingerprint, status, body, request_id, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, *astuple(response)),
        )

    # --- webhook outbox ---------------------------------------------------------------------------
    def enqueue_delivery(self, event_id: str, url: str, payload: str, at: float) -> None:
        self._db.execute(
            "INSERT INTO deliveries (event_id, url, payload, next_attempt) VALUES (?, ?, ?, ?)",
            (event_id, url, payload, at),
        )

    def due_deliveries(self, at: float, limit: int) -> list[Delivery]:
        rows = self._db.execute(
            "SELECT event_id, url, payload, attempts FROM deliveries"
            " WHERE delivered IS NULL AND next_attempt <= ? ORDER BY next_attempt, rowid LIMIT ?",
            (at, limit),
        )
        return [Delivery(*row) for row in rows]

    def next_delivery_at(self) -> float | None:
        row = self._db.execute("SELECT MIN(next_attempt) FROM deliveries WHERE delivered IS NULL").fetchone()
        return row[0]

    def delivery_succeeded(self, event_id: str, at: float) -> None:
        self._db.execute(
            "UPDATE deliveries SET delivered = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE event_id = ?",
            (at, event_id),
        )

    def delivery_failed(self, event_id: str, next_attempt: float | None, error: str) -> None:
        """Schedule another attempt, or give up (`next_attempt=None`) and keep the event undelivered."""
        if next_attempt is None:
            self._db.execute(
                "UPDATE deliveries SET delivered = -1, attempts = attempts + 1, last_error = ?"
                " WHERE event_id = ?",
                (error, event_id),
            )
        else:
            self._db.execute(
                "UPDATE deliveries SET next_attempt = ?, attempts = attempts + 1, last_error = ?"
                " WHERE event_id = ?",
                (next_attempt, error, event_id),
            )
