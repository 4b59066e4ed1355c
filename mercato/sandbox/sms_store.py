"""The SMS sandbox's state in one SQLite file, so sent messages and idempotency tokens survive a restart.

Messages are kept as the JSON resources the API returns. The sandbox is one asyncio process and calls
this synchronously, without awaiting inside an operation, so one connection is enough and a create
(message plus its idempotency record) can't interleave with another.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order: lists are newest first
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL,
    to_number TEXT NOT NULL,
    from_number TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_to ON messages (account_sid, to_number, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    account_sid TEXT NOT NULL,
    token TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (account_sid, token)
);
"""


@dataclass(frozen=True)
class SavedResponse:
    status: int
    body: str


@dataclass(frozen=True)
class Page:
    messages: list[dict[str, Any]]
    next_before: int | None  # the cursor for the next page, None on the last one


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, message: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO messages (sid, account_sid, to_number, from_number, data) VALUES (?, ?, ?, ?, ?)",
            (message["sid"], message["account_sid"], message["to"], message["from"], json.dumps(message)),
        )

    def get(self, account_sid: str, sid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT data FROM messages WHERE account_sid = ? AND sid = ?", (account_sid, sid)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def page(
        self,
        account_sid: str | None,
        *,
        to: str | None = None,
        sender: str | None = None,
        before: int | None = None,
        size: int = 50,
    ) -> Page:
        """Newest first; `before` is the cursor a previous page returned."""
        clauses, args = ["1 = 1"], []
        for column, value in (("account_sid", account_sid), ("to_number", to), ("from_number", sender)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if before is not None:
            clauses.append("seq < ?")
            args.append(before)
        rows = self._db.execute(
            f"SELECT seq, data FROM messages WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?",  # noqa: S608
            (*args, size + 1),
        ).fetchall()
        more = len(rows) > size
        rows = rows[:size]
        return Page([json.loads(data) for _, data in rows], rows[-1][0] if more else None)

    def clear(self) -> int:
        with self.transaction():
            deleted = self._db.execute("DELETE FROM messages").rowcount
            self._db.execute("DELETE FROM idempotency")
        return deleted

    def saved_response(self, account_sid: str, token: str, since: float) -> SavedResponse | None:
        row = self._db.execute(
            "SELECT status, body FROM idempotency WHERE account_sid = ? AND token = ? AND created >= ?",
            (account_sid, token, since),
        ).fetchone()
        return SavedResponse(*row) if row else None

    def save_response(self, account_sid: str, token: str, response: SavedResponse, created: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency (account_sid, token, status, body, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (account_sid, token, response.status, response.body, created),
        )
