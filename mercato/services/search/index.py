"""The search service's product index: a Tantivy index on disk, fed only by catalog events.

One `ProductIndex` per process owns the index directory and its single writer. Every write
(`apply`, `apply_inventory`, `delete`, `apply_many`) is one commit followed by a reader reload, so a
change is visible to the next query. Calls block; async callers wrap them in `asyncio.to_thread`.
Writes are serialised by a lock; queries take no lock and run in parallel.

The parts, each in its own module:

* `state.py`: what the index knows of one product (its last snapshot, or a tombstone) and the ordering
  guard that ignores out-of-order redeliveries;
* `documents.py`: the schema, the analyzers, and the document a product becomes;
* `queries.py`: the relevance query for a shopper's text, and the filters;
* `facets.py`: facet counts (categories, attribute values, price buckets) and their cache;
* `generations.py`: the directory layout, and the fresh generation a `rebuild` fills and swaps in.

This module keeps `ProductIndex` and the public results; the names other code imports from here are
listed in `__all__`.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import tantivy

from mercato.contracts.events import Event, InventoryChanged, ProductDeleted
from mercato.services.search.documents import SCHEMA, SCHEMA_VERSION, _documents, _tokens, compact
from mercato.services.search.facets import (
    DEFAULT_PRICE_EDGES,
    CategoryCount,
    Facets,
    PriceBucket,
    ValueCount,
    _FacetCache,
    _facets,
    _price_edges,
)
from mercato.services.search.generations import (
    _WRITER_HEAP,
    _bulk_load,
    _Generation,
    _next_name,
    _open_generation,
    _read_pointer,
    _remove_generations,
    _write_pointer,
)
from mercato.services.search.queries import (
    MAX_QUERY_CHARS,
    Q,
    _attribute_selection,
    _clean,
    _combine,
    _filters,
    _price_bounds,
    _suggest_query,
    text_query,
)
from mercato.services.search.state import (
    Change,
    Product,
    _fold_deletion,
    _fold_inventory,
    _fold_snapshot,
    _State,
)

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_PRICE_EDGES",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_PREFIX_CHARS",
    "MAX_SUGGESTIONS",
    "SCHEMA_VERSION",
    "SORTS",
    "CategoryCount",
    "Change",
    "Facets",
    "Hit",
    "PriceBucket",
    "Product",
    "ProductIndex",
    "SearchResults",
    "Sort",
    "Suggestion",
    "ValueCount",
]

MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_SUGGESTIONS = 20
MAX_PREFIX_CHARS = 64

DEFAULT_CURRENCY = "EUR"
"""The currency of the seeded default market (eu): what a caller that names none searches in."""

Sort = Literal["relevance", "price_asc", "price_desc", "newest"]
SORTS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "newest")


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    product_id: str
    slug: str
    name: str
    brand: str
    category_path: tuple[str, ...]
    price: int  # the cheapest variant now (a sale applied), minor units of `currency`
    price_max: int
    compare_at: int | None  # while a sale lowers the cheapest: the variants' cheapest list price
    currency: str
    in_stock: bool
    image_url: str | None
    score: float | None  # relevance sort only


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[Hit]
    facets: Facets | None
    offset: int
    limit: int


@dataclass(frozen=True)
class Suggestion:
    text: str
    product_id: str
    slug: str


# --- the index --------------------------------------------------------------------------------------


@dataclass
class _HardDelete:
    product_id: str


@dataclass
class _Batch:
    # Each product the batch changed, in its state so far (None: hard-deleted in this batch).
    states: dict[str, _State | None] = field(default_factory=dict)


class ProductIndex:
    """The product index in `directory` (created if missing). Not for two processes at once: the
    writer takes Tantivy's lock on the live generation."""

    def __init__(
        self, directory: str | os.PathLike[str], *, writer_heap: int = _WRITER_HEAP, facet_cache: int = 512
    ) -> None:
        self.root = Path(directory)
        self.root.mkdir(parents=True, exist_ok=True)
        self._writer_heap = writer_heap
        self._lock = threading.RLock()
        self._rebuilding = threading.Lock()
        self._replay: list[Change | _HardDelete] | None = None
        self._version = 0  # commits so far: what cached facet counts are valid for
        self._facet_cache = _FacetCache(facet_cache)
        self.needs_rebuild = False
        """True if there was no usable index (none yet, or one of another schema version) and an empty
        one was created: the caller should `rebuild` it from catalog."""
        self.replaced = False
        """True if the index found was unusable (another schema version, damage) and replaced by an empty
        one: the events it was made from have been consumed already, so only a `rebuild` fills it."""

        generation = None
        pointer = _read_pointer(self.root)
        if pointer is not None:
            name, version = pointer
            if version == SCHEMA_VERSION and (self.root / name).is_dir():
                try:
                    generation = self._open(self.root / name, create=False)
                except ValueError:  # schema mismatch or damage
                    generation = None
        if generation is None:
            self.needs_rebuild = True
            self.replaced = pointer is not None
            generation = self._open(self.root / _next_name(self.root), create=True)
            _write_pointer(self.root, generation.name)
        self._gen = generation
        _remove_generations(self.root, keep={generation.name})

    # -- lifecycle

    def close(self) -> None:
        with self._lock:
            gen = self._gen
            if gen.writer is not None:
                gen.writer.wait_merging_threads()
                gen.writer = None  # type: ignore[assignment]

    def __enter__(self) -> ProductIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> str:
        return self._gen.name

    def _open(self, path: Path, *, create: bool) -> _Generation:
        return _open_generation(path, create=create, writer_heap=self._writer_heap)

    # -- writing

    def apply(self, event: Event) -> bool:
        """Apply one catalog event; False if it changed nothing (older than what is indexed, unknown
        product or SKU, or not a catalog event)."""
        return self.apply_many([event]) > 0

    def apply_inventory(self, event: InventoryChanged) -> bool:
        return self.apply_many([event]) > 0

    def delete(self, product_id: str, *, deleted_at: datetime | None = None) -> bool:
        """Remove a product. With `deleted_at` a tombstone stays, so a snapshot redelivered later that is
        not newer than the deletion can't bring the product back."""
        if deleted_at is not None:
            return self.apply_many([ProductDeleted(product_id=product_id, deleted_at=deleted_at)]) > 0
        return self._write([_HardDelete(product_id)]) > 0

    def apply_many(self, events: Iterable[Event]) -> int:
        """Apply events in order, with one commit; returns how many changed the index."""
        return self._write([e for e in events if isinstance(e, Change | _HardDelete)])

    def _write(self, changes: list[Change | _HardDelete]) -> int:
        if not changes:
            return 0
        with self._lock:
            gen = self._gen
            if gen.writer is None:
                raise RuntimeError("The index is closed.")
            applied = self._apply_to(gen, changes)
            if self._replay is not None:
                self._replay.extend(changes)
        return applied

    def _apply_to(self, gen: _Generation, changes: list[Change | _HardDelete]) -> int:
        """Fold the changes into each product's state in order, then write every product that changed
        once, in its last state: ten stock changes of one product in a batch are one document."""
        batch = _Batch()
        applied = 0
        try:
            for change in changes:
                applied += self._fold(gen, batch, change)
            for product_id, state in batch.states.items():
                gen.writer.delete_documents_by_term("id", product_id)
                for doc in _documents(state) if state is not None else []:
                    gen.writer.add_document(doc)
            if applied:
                gen.writer.commit()
        except BaseException:
            gen.writer.rollback()
            raise
        if applied:
            gen.index.reload()
            self._version += 1
        return applied

    def _fold(self, gen: _Generation, batch: _Batch, change: Change | _HardDelete) -> bool:
        """Fold one change into its product's state; False if it changes nothing (older than what is
        indexed, an unknown product or SKU, a product already gone)."""
        if isinstance(change, _HardDelete):
            if self._current(gen, batch, change.product_id) is None:
                return False
            batch.states[change.product_id] = None
            return True
        current = self._current(gen, batch, change.product_id)
        if isinstance(change, ProductDeleted):
            state = _fold_deletion(current, change)
        elif isinstance(change, InventoryChanged):
            state = _fold_inventory(current, change)
        else:
            state = _fold_snapshot(current, change)
        if state is None:
            return False
        batch.states[state.product_id] = state
        return True

    def _current(self, gen: _Generation, batch: _Batch, product_id: str) -> _State | None:
        if product_id in batch.states:
            return batch.states[product_id]
        return self._stored(gen.index.searcher(), product_id)

    @staticmethod
    def _stored(searcher: tantivy.Searcher, product_id: str) -> _State | None:
        hits = searcher.search(Q.term_query(SCHEMA, "state_of", product_id), 1).hits
        if not hits:
            return None
        raw = searcher.doc(hits[0][1]).get_first("state")
        return _State.load(product_id, raw)

    def product(self, product_id: str) -> Product | None:
        """The snapshot indexed for a product (inventory changes folded in), archived ones included."""
        state = self._stored(self._gen.index.searcher(), product_id)
        return state.product if state is not None else None

    # -- rebuilding

    def rebuild(
        self, snapshots: Iterable[Product], *, on_progress: Callable[[int], None] | None = None
    ) -> int:
        """Index `snapshots` (the whole catalog) into a fresh generation and swap it in. Queries keep
        answering from the live generation meanwhile, and events applied meanwhile go to both. Returns
        the number of products indexed."""
        if not self._rebuilding.acquire(blocking=False):
            raise RuntimeError("A rebuild is already running.")
        path: Path | None = None
        try:
            with self._lock:
                self._replay = []
                path = self.root / _next_name(self.root)
                path.mkdir(parents=True)
            indexed = _bulk_load(path, snapshots, on_progress)
            gen = self._open(path, create=False)
            with self._lock:
                replay, self._replay = self._replay, None
                if replay:
                    self._apply_to(gen, replay)
                gen.index.reload()
                old, self._gen = self._gen, gen
                _write_pointer(self.root, gen.name)
            if old.writer is not None:
                old.writer.wait_merging_threads()
                old.writer = None  # type: ignore[assignment]
            # The generation just retired stays until the next rebuild or restart: a query that took
            # its searcher before the swap may still be reading it.
            _remove_generations(self.root, keep={gen.name, old.name})
            path = None
            return indexed
        finally:
            with self._lock:
                self._replay = None
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
            self._rebuilding.release()

    # -- reading

    def count(self, currency: str = DEFAULT_CURRENCY) -> int:
        """Products that can be found by shoppers paying in `currency`."""
        return self._gen.index.searcher().search(_combine(currency, None, []), 1).count

    def search(
        self,
        query: str = "",
        *,
        category: str | None = None,
        price_min: int | None = None,
        price_max: int | None = None,
        attributes: Mapping[str, Iterable[str]] | None = None,
        in_stock: bool = False,
        sort: Sort = "relevance",
        offset: int = 0,
        limit: int = 20,
        facets: bool = True,
        price_edges: Sequence[int] | None = None,
        currency: str = DEFAULT_CURRENCY,
    ) -> SearchResults:
        """Products sold in `currency` matching `query` (all of them when it is empty) and every filter;
        prices, price filters, price buckets and sorting by price are in `currency`.

        Facet counts are for the query and the filters — except that the counts of a filtered dimension
        (category, price, one attribute) leave that dimension's own filter out, so the alternatives to
        what is selected keep their counts. `limit` is capped at MAX_LIMIT and `offset` at MAX_OFFSET
        (beyond it: no hits, the total still counted). Raises ValueError only for an unknown `sort`.
        """
        if sort not in SORTS:
            raise ValueError(f"Unknown sort {sort!r}; one of {', '.join(SORTS)}.")
        offset = max(0, int(offset))
        limit = max(0, min(int(limit), MAX_LIMIT))
        text = text_query(query or "")
        cleaned_category = _clean(category).strip("/").lower() if category is not None else ""
        prices = (
            _price_bounds(price_min, price_max) if price_min is not None or price_max is not None else None
        )
        selection = _attribute_selection(attributes) if attributes else ()
        filters = _filters(cleaned_category, prices, selection, in_stock=in_stock)

        gen = self._gen
        stamp = (gen.name, self._version)  # read before the searcher: what is cached is never older
        searcher = gen.index.searcher()
        full = _combine(currency, text, filters.values())
        fetch = limit if limit and offset <= MAX_OFFSET else 0
        kwargs: dict[str, Any] = {}
        if sort == "price_asc":
            kwargs = {"order_by_field": "price", "order": tantivy.Order.Asc}
        elif sort == "price_desc":
            kwargs = {"order_by_field": "price", "order": tantivy.Order.Desc}
        elif sort == "newest" or text is None:  # browsing: nothing to rank by, newest first
            kwargs = {"order_by_field": "created", "order": tantivy.Order.Desc}
        result = searcher.search(full, max(fetch, 1), count=True, offset=offset if fetch else 0, **kwargs)
        hits = []
        for value, address in result.hits[:fetch]:
            data = orjson.loads(searcher.doc(address).get_first("hit"))
            data["category_path"] = tuple(data["category_path"])
            hits.append(Hit(**data, score=value if not kwargs else None))
        facet_counts = None
        if facets:
            edges = _price_edges(price_edges)
            key = (
                currency,
                tuple(_tokens((query or "")[:MAX_QUERY_CHARS])),
                cleaned_category,
                prices,
                selection,
                bool(in_stock),
                tuple(edges),
            )
            facet_counts = self._facet_cache.get(stamp, key)
            if facet_counts is None:
                facet_counts = _facets(searcher, text, filters, in_stock, edges, currency)
                self._facet_cache.put(stamp, key, facet_counts)
        return SearchResults(total=result.count, hits=hits, facets=facet_counts, offset=offset, limit=limit)

    def suggest(self, prefix: str, limit: int = 8, *, currency: str = DEFAULT_CURRENCY) -> list[Suggestion]:
        """Product names completing `prefix`, ignoring case and separators ("t-sh", "tsh" -> "T-Shirt
        ..."); names starting with it come first, then names with a word starting with it, shorter
        first."""
        key = compact((prefix or "")[:MAX_PREFIX_CHARS])
        limit = max(0, min(int(limit), MAX_SUGGESTIONS))
        if not key or not limit:
            return []
        query = _suggest_query(currency, key)
        searcher = self._gen.index.searcher()
        candidates = []
        for score, address in searcher.search(query, limit * 5).hits:
            data = orjson.loads(searcher.doc(address).get_first("hit"))
            candidates.append((-score, len(data["name"]), data["name"], data))
        suggestions: dict[str, Suggestion] = {}
        for _, _, name, data in sorted(candidates, key=lambda c: c[:3]):
            suggestions.setdefault(name.casefold(), Suggestion(name, data["product_id"], data["slug"]))
        return list(suggestions.values())[:limit]
