"""The index directory on disk: generations of Tantivy indexes and the pointer to the live one.

Layout on disk: `<directory>/CURRENT` names the live generation, `<directory>/g000001/` ... hold
Tantivy indexes. `ProductIndex.rebuild` fills a fresh generation (`_bulk_load`) while queries and events
keep going to the live one, replays the events that arrived meanwhile, then swaps the pointer (atomic
rename, `_write_pointer`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
import tantivy

from mercato.services.search.documents import SCHEMA, SCHEMA_VERSION, _documents, _register
from mercato.services.search.state import Product, _State, _utc

_POINTER = "CURRENT"
_WRITER_HEAP = 64_000_000
_REBUILD_HEAP = 256_000_000


@dataclass
class _Generation:
    name: str
    path: Path
    index: tantivy.Index
    writer: tantivy.IndexWriter


def _open_generation(path: Path, *, create: bool, writer_heap: int) -> _Generation:
    if create:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=not create)
    _register(index)
    index.config_reader(reload_policy="manual")
    writer = index.writer(writer_heap, 1)
    return _Generation(name=path.name, path=path, index=index, writer=writer)


def _read_pointer(root: Path) -> tuple[str, int] | None:
    try:
        data = orjson.loads((root / _POINTER).read_bytes())
        return str(data["current"]), int(data["schema"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_pointer(root: Path, name: str) -> None:
    tmp = root / f"{_POINTER}.tmp"
    with open(tmp, "wb") as f:
        f.write(orjson.dumps({"current": name, "schema": SCHEMA_VERSION}))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / _POINTER)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _generations(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[:1] == "g" and p.name[1:].isdigit())


def _next_name(root: Path) -> str:
    existing = [int(name[1:]) for name in _generations(root)]
    return f"g{max(existing, default=0) + 1:06d}"


def _remove_generations(root: Path, *, keep: set[str]) -> None:
    for name in _generations(root):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)


def _bulk_load(path: Path, snapshots: Iterable[Product], on_progress: Callable[[int], None] | None) -> int:
    """Index `snapshots` into a new Tantivy index at `path`, the newest snapshot of each product winning;
    returns the number of products indexed."""
    index = tantivy.Index(SCHEMA, path=str(path), reuse=False)
    _register(index)
    writer = index.writer(_REBUILD_HEAP)
    seen: dict[str, datetime] = {}
    try:
        for n, product in enumerate(snapshots, start=1):
            updated_at = _utc(product.updated_at)
            previous = seen.get(product.product_id)
            if previous is not None:
                if updated_at < previous:
                    continue
                writer.delete_documents_by_term("id", product.product_id)
            seen[product.product_id] = updated_at
            for doc in _documents(_State(product.product_id, product)):
                writer.add_document(doc)
            if on_progress is not None and n % 1_000 == 0:
                on_progress(n)
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        writer.wait_merging_threads()
    if on_progress is not None:
        on_progress(len(seen))
    return len(seen)
