"""The app's local copy of what it showed last: catalog pages, product pages, the cart, and the writes
still waiting for an answer. JSON files in the app's data directory, written atomically.

Reads go to the gateway first; when it cannot be reached, the screens show the cached copy under an
"offline" banner (Gateway.get_cached)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class Store:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        safe = _SAFE.sub("_", name)
        if len(safe) > 80:  # long query strings: a stable short name
            safe = safe[:40] + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
        return self.directory / f"{safe}.json"

    def read(self, name: str):
        try:
            return json.loads(self._path(name).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def write(self, name: str, value) -> None:
        path = self._path(name)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "w") as out:
            json.dump(value, out)
        os.replace(tmp, path)

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def clear(self, prefix: str = "") -> None:
        for path in self.directory.glob(f"{_SAFE.sub('_', prefix)}*.json"):
            path.unlink(missing_ok=True)


def cache_name(path: str, params: dict | None = None) -> str:
    """The cache entry of a read: its path and its query, e.g. products?category=women-tshirts."""
    query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()) if v not in (None, ""))
    return path.strip("/").replace("/", "_") + (f"?{query}" if query else "")
