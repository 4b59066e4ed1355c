"""The search service's product index: a Tantivy index on disk, fed only by catalog events.

One `ProductIndex` per process owns the index directory and its single writer. Every write
(`apply`, `apply_inventory`, `delete`, `apply_many`) is one commit followed by a reader reload, so a
change is visible to the next query. Calls block; async callers wrap them in `asyncio.to_thread`.
Writes are serialised by a lock; queries take no lock and run in parallel.

What the index keeps per product (one document, keyed by product id):

* the whole last snapshot (`state`, stored) so an `InventoryChanged` can be folded into it and the
  product re-indexed without asking catalog anything, and so an out-of-order redelivery can be
  recognised: a snapshot older than the indexed one (`updated_at`), an inventory change older than
  the last one seen for that SKU, or anything older than a deletion (kept as a tombstone) is ignored;
* searchable text: name (highest boost), a compact form of the name without separators ("T-Shirt" ->
  "tshirt"), brand and category slugs, attribute values, description (lowest);
* filter/sort/facet fields: the category path as a hierarchical facet, the minimum variant price (minor
  units), attribute `key=value` pairs of all variants and of the in-stock ones, in-stock flag, creation
  time.

Archived and deleted products stay in the index as invisible documents (that is what keeps the ordering
guard working) and never show up in results, facets or suggestions.

Facet counts are cached between commits (browsing a big category aggregates over much of the catalog,
and the same pages are asked for over and over).

Layout on disk: `<directory>/CURRENT` names the live generation, `<directory>/g000001/` ... hold
Tantivy indexes. `rebuild` fills a fresh generation while queries and events keep going to the live
one, replays the events that arrived meanwhile, then swaps the pointer (atomic rename).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import tantivy

from mercato.contracts.events import (
    Event,
    InventoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
)

SCHEMA_VERSION = 1
"""Bumped whenever the schema or the analysis changes: an index of another version needs a rebuild."""

MAX_QUERY_CHARS = 1_000  # what is analysed of a query string; the rest is ignored
MAX_TERMS = 16  # query tokens used
MAX_TOKEN_CHARS = 40  # longer tokens are dropped (the index drops them too)
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_SUGGESTIONS = 20
MAX_PREFIX_CHARS = 64
MAX_FILTER_ATTRIBUTES = 16
MAX_FILTER_VALUES = 32
MAX_FILTER_CHARS = 200
MAX_PRICE = 2**62
MAX_FACET_TERMS = 1_000
DEFAULT_PRICE_EDGES: tuple[int, ...] = (2_500, 5_000, 10_000, 20_000, 50_000)

# Field weights. Exact (BM25-scored) term matches are boosted by the weight; a fuzzy match scores a
# constant FUZZY_FACTOR * weight, so an exact match of a field outranks a typo-tolerant one.
W_NAME, W_COMPACT, W_BRAND, W_CATEGORY, W_ATTRIBUTE, W_DESCRIPTION = 4.0, 3.5, 2.0, 2.0, 1.5, 1.0
FUZZY_FACTOR = 0.3
PHRASE_BOOST = 3.0
EXACT_NAME_SCORE = 50.0  # the query is the product's name (ignoring case and separators)
TIE_BREAKER = 0.1

Sort = Literal["relevance", "price_asc", "price_desc", "newest"]
SORTS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "newest")

_TEXT = "mercato_text"  # simple tokens, long ones dropped, lowercased, ASCII-folded, English stemming
_KEYWORD = "mercato_keyword"  # the whole value, lowercased

_POINTER = "CURRENT"
_WRITER_HEAP = 64_000_000
_REBUILD_HEAP = 256_000_000


def _text_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS + 1))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _keyword_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase()).build()


_STEM = _text_analyzer()
_FOLD = (  # what the text analyzer does before stemming: query tokens and compact forms come from it
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_boolean_field("visible", indexed=True, fast=True)
    # searchable text
    b.add_text_field("name", tokenizer_name=_TEXT)
    b.add_text_field("name_compact", tokenizer_name="raw", index_option="freq")
    b.add_text_field("name_key", tokenizer_name="raw", index_option="basic")
    b.add_text_field("brand", tokenizer_name=_TEXT)
    b.add_text_field("category_text", tokenizer_name=_TEXT)
    b.add_text_field("attribute_text", tokenizer_name=_TEXT)
    b.add_text_field("description", tokenizer_name=_TEXT)
    # filters, facets, sort
    b.add_facet_field("category")
    b.add_text_field("category_slugs", tokenizer_name="raw", index_option="basic")
    b.add_text_field("attr", tokenizer_name=_KEYWORD, index_option="basic")
    b.add_text_field("attr_live", tokenizer_name=_KEYWORD, index_option="basic")
    b.add_text_field("attr_label", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("attr_live_label", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("price", indexed=True, fast=True)
    b.add_boolean_field("in_stock", indexed=True, fast=True)
    b.add_integer_field("created", fast=True)
    # suggestions
    b.add_text_field("suggest_full", tokenizer_name="raw", index_option="basic")
    b.add_text_field("suggest_words", tokenizer_name="raw", index_option="basic")
    # stored: what a hit shows, and the snapshot events are folded into
    b.add_bytes_field("hit", stored=True)
    b.add_bytes_field("state", stored=True)
    return b.build()


SCHEMA = _schema()


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    product_id: str
    slug: str
    name: str
    brand: str
    category_path: tuple[str, ...]
    price: int  # the cheapest variant, minor units
    price_max: int
    currency: str
    in_stock: bool
    image_url: str | None
    score: float | None  # relevance sort only


@dataclass(frozen=True)
class CategoryCount:
    path: tuple[str, ...]  # slugs root -> this category
    count: int  # products in it or any sub-category


@dataclass(frozen=True)
class ValueCount:
    value: str
    count: int


@dataclass(frozen=True)
class PriceBucket:
    min: int | None  # inclusive, minor units; None: unbounded
    max: int | None  # exclusive
    count: int


@dataclass(frozen=True)
class Facets:
    categories: list[CategoryCount]
    attributes: dict[str, list[ValueCount]]
    price: list[PriceBucket]


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


# --- what is indexed --------------------------------------------------------------------------------

Product = ProductCreated | ProductUpdated


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _micros(moment: datetime) -> int:
    return int(_utc(moment).timestamp() * 1_000_000)


def _tokens(text: str) -> list[str]:
    """Lowercased, ASCII-folded alphanumeric runs: "T-Shirt (Men's)" -> t, shirt, men, s."""
    return _FOLD.analyze(text)


def compact(text: str) -> str:
    """The text without case, accents and anything but letters and digits: "T-Shirt" -> "tshirt"."""
    return "".join(_tokens(text))


@dataclass
class _State:
    """What the index knows of one product: its last snapshot, or a tombstone."""

    product_id: str
    product: Product | None
    stock_at: dict[str, datetime] = field(default_factory=dict)  # SKU -> last InventoryChanged applied
    deleted_at: datetime | None = None

    @property
    def version(self) -> datetime:
        if self.product is not None:
            return _utc(self.product.updated_at)
        assert self.deleted_at is not None
        return self.deleted_at

    @property
    def visible(self) -> bool:
        return self.product is not None and self.product.status == "active" and bool(self.product.variants)

    def dump(self) -> bytes:
        return orjson.dumps(
            {
                "product": self.product.model_dump(mode="json") if self.product is not None else None,
                "stock_at": {sku: at.isoformat() for sku, at in self.stock_at.items()},
                "deleted_at": self.deleted_at.isoformat() if self.deleted_at else None,
            }
        )

    @classmethod
    def load(cls, product_id: str, raw: bytes) -> _State:
        data = orjson.loads(raw)
        return cls(
            product_id=product_id,
            product=ProductUpdated.model_validate(data["product"]) if data["product"] else None,
            stock_at={sku: _utc(datetime.fromisoformat(at)) for sku, at in data["stock_at"].items()},
            deleted_at=_utc(datetime.fromisoformat(data["deleted_at"])) if data["deleted_at"] else None,
        )


def _attribute_key(key: str) -> str:
    return key.strip().lower().replace("=", "-")[:MAX_FILTER_CHARS]


def _attribute_pairs(attributes: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(_attribute_key(k), v.strip()) for k, v in attributes.items() if k.strip() and v.strip()]


def _facet(path: Sequence[str]) -> tantivy.Facet:
    parts = [p.replace("/", "-").replace("\\", "-") for p in path]
    return tantivy.Facet.from_string("/" + "/".join(parts))


def _document(state: _State) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", state.product_id)
    doc.add_bytes("state", state.dump())
    doc.add_boolean("visible", state.visible)
    if not state.visible:  # archived, deleted, nothing to sell: kept only for the ordering guard
        return doc
    p = state.product
    assert p is not None

    tokens = _tokens(p.name)
    doc.add_text("name", p.name)
    compacts = {"".join(tokens[i : i + 2]) for i in range(len(tokens) - 1)}  # "t shirt" -> "tshirt"
    compacts |= {compact(word) for word in p.name.split()}  # "Wi-Fi-Router" -> "wifirouter"
    for value in sorted(c for c in compacts if c):
        doc.add_text("name_compact", value)
    key = "".join(tokens)
    if key:
        doc.add_text("name_key", key)
        doc.add_text("suggest_full", key)
    for suffix in sorted({"".join(tokens[i:]) for i in range(len(tokens))}):
        doc.add_text("suggest_words", suffix)

    doc.add_text("brand", p.brand)
    doc.add_text("description", p.description)
    category_words = [slug.replace("-", " ") for slug in p.category_path]
    category_words += [compact(slug) for slug in p.category_path if "-" in slug]
    doc.add_text("category_text", " ".join(category_words))
    if p.category_path:
        doc.add_facet("category", _facet([slug.lower() for slug in p.category_path]))
    for slug in dict.fromkeys(s.lower() for s in p.category_path):
        doc.add_text("category_slugs", slug)

    values: dict[str, None] = {}
    labels: dict[str, None] = {}
    live_labels: dict[str, None] = {}
    for variant in p.variants:
        for k, v in _attribute_pairs(variant.attributes):
            values[v] = None
            labels[f"{k}={v}"] = None
            if variant.available > 0:
                live_labels[f"{k}={v}"] = None
    doc.add_text("attribute_text", " ".join(values))
    for label in labels:
        doc.add_text("attr", label)
        doc.add_text("attr_label", label)
    for label in live_labels:
        doc.add_text("attr_live", label)
        doc.add_text("attr_live_label", label)

    prices = [v.price.amount for v in p.variants]
    in_stock = any(v.available > 0 for v in p.variants)
    doc.add_integer("price", min(prices))
    doc.add_boolean("in_stock", in_stock)
    doc.add_integer("created", _micros(p.created_at))
    doc.add_bytes(
        "hit",
        orjson.dumps(
            {
                "product_id": p.product_id,
                "slug": p.slug,
                "name": p.name,
                "brand": p.brand,
                "category_path": list(p.category_path),
                "price": min(prices),
                "price_max": max(prices),
                "currency": p.variants[0].price.currency,
                "in_stock": in_stock,
                "image_url": p.image_url,
            }
        ),
    )
    return doc


# --- queries ----------------------------------------------------------------------------------------

Q = tantivy.Query


def _fuzzy_distance(term: str) -> int:
    if len(term) < 4 or len(term) > MAX_TOKEN_CHARS:  # short: too many near misses; long: costly automaton
        return 0
    return 1 if len(term) < 8 else 2


def _field_match(field_name: str, term: str, weight: float, *, fuzzy: bool) -> list[tantivy.Query]:
    queries = [Q.boost_query(Q.term_query(SCHEMA, field_name, term), weight)]
    distance = _fuzzy_distance(term)
    if fuzzy and distance:
        fuzzy_query = Q.fuzzy_term_query(SCHEMA, field_name, term, distance, True)
        queries.append(Q.const_score_query(fuzzy_query, weight * FUZZY_FACTOR))
    return queries


def _token_query(plain: str, stem: str) -> tantivy.Query:
    """One query token against every text field; the best field counts (plus a little of the others)."""
    return Q.disjunction_max_query(
        [
            *_field_match("name", stem, W_NAME, fuzzy=True),
            *_field_match("name_compact", plain, W_COMPACT, fuzzy=True),
            *_field_match("brand", stem, W_BRAND, fuzzy=True),
            *_field_match("category_text", stem, W_CATEGORY, fuzzy=True),
            *_field_match("attribute_text", stem, W_ATTRIBUTE, fuzzy=True),
            *_field_match("description", stem, W_DESCRIPTION, fuzzy=False),
        ],
        tie_breaker=TIE_BREAKER,
    )


def _minimum_should_match(n: int) -> int:
    """All of one or two words; two thirds of longer queries ("shirt for men" needs two of three)."""
    return n if n <= 2 else max(2, math.ceil(2 * n / 3))


def text_query(text: str) -> tantivy.Query | None:
    """The relevance query for what a shopper typed, built from its tokens (never the query parser, so
    no input is a syntax error). None for a query without letters or digits (browse everything)."""
    tokens = _tokens(text[:MAX_QUERY_CHARS])
    if not tokens:  # blank, or nothing but punctuation and query syntax
        return None
    plain = [t for t in tokens if len(t) <= MAX_TOKEN_CHARS][:MAX_TERMS]
    if not plain:  # only words longer than anything indexed
        return Q.empty_query()
    stems = _STEM.analyze(" ".join(plain))
    if len(stems) != len(plain):  # the stemmer maps token to token; this is only a safety net
        stems = plain
    words = [_token_query(p, s) for p, s in zip(plain, stems, strict=True)]
    if len(words) == 1:
        clauses = [(tantivy.Occur.Should, words[0])]
    else:
        all_words = Q.boolean_query(
            [(tantivy.Occur.Should, w) for w in words],
            minimum_number_should_match=_minimum_should_match(len(words)),
        )
        joined = "".join(plain)
        clauses = [
            (tantivy.Occur.Should, all_words),
            (tantivy.Occur.Should, Q.boost_query(Q.phrase_query(SCHEMA, "name", list(stems)), PHRASE_BOOST)),
            *((tantivy.Occur.Should, q) for q in _field_match("name_compact", joined, W_COMPACT, fuzzy=True)),
        ]
    exact_name = Q.term_query(SCHEMA, "name_key", "".join(plain))
    clauses.append((tantivy.Occur.Should, Q.const_score_query(exact_name, EXACT_NAME_SCORE)))
    return Q.boolean_query(clauses)


def _clean(value: Any) -> str:
    return str(value).strip()[:MAX_FILTER_CHARS]


def _category_filter(cleaned: str) -> tantivy.Query:
    """A category and every category under it: a path ("apparel/tops") on the hierarchical facet, or a
    single slug ("tops"), matched wherever it occurs in a product's path."""
    if "/" not in cleaned:
        return Q.term_query(SCHEMA, "category_slugs", cleaned)
    parts = [p for p in cleaned.split("/") if p]
    try:
        return Q.term_query(SCHEMA, "category", _facet(parts))
    except ValueError:
        return Q.empty_query()


def _price_bounds(price_min: int | None, price_max: int | None) -> tuple[int, int]:
    low = max(0, min(int(price_min), MAX_PRICE)) if price_min is not None else 0
    high = max(0, min(int(price_max), MAX_PRICE)) if price_max is not None else MAX_PRICE
    return low, high


def _price_filter(low: int, high: int) -> tantivy.Query:
    if low > high:
        return Q.empty_query()
    return Q.range_query(SCHEMA, "price", tantivy.FieldType.Integer, low, high)


def _attribute_selection(attributes: Mapping[str, Iterable[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(key, values) pairs, lowercased, bounded, sorted."""
    selection: dict[str, set[str]] = {}
    for raw_key, raw_values in list(attributes.items())[:MAX_FILTER_ATTRIBUTES]:
        key = _attribute_key(_clean(raw_key))
        if raw_values is None:
            continue
        values = (
            [raw_values] if isinstance(raw_values, str) else itertools.islice(raw_values, MAX_FILTER_VALUES)
        )
        cleaned = {_clean(v).lower() for v in values if v is not None} - {""}
        if key and cleaned:
            selection.setdefault(key, set()).update(cleaned)
    return tuple((key, tuple(sorted(values))) for key, values in sorted(selection.items()))


def _attribute_filters(
    selection: tuple[tuple[str, tuple[str, ...]], ...], *, live: bool
) -> dict[str, tantivy.Query]:
    """Any of the values of one attribute, all of the attributes (per product: with in-stock only, the
    values of variants that are in stock)."""
    field_name = "attr_live" if live else "attr"
    return {
        f"attr:{key}": Q.term_set_query(SCHEMA, field_name, [f"{key}={v}" for v in values])
        for key, values in selection
    }


def _combine(text: tantivy.Query | None, filters: Iterable[tantivy.Query]) -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, Q.term_query(SCHEMA, "visible", True))]
    if text is not None:
        clauses.append((tantivy.Occur.Must, text))
    clauses += [(tantivy.Occur.Must, Q.const_score_query(f, 0.0)) for f in filters]
    return Q.boolean_query(clauses)


def _price_edges(edges: Sequence[int] | None) -> list[int]:
    if edges is None:
        return list(DEFAULT_PRICE_EDGES)
    return sorted({min(max(int(e), 1), MAX_PRICE) for e in list(edges)[:20]})


def _price_aggregation(edges: list[int]) -> dict:
    bounds = [None, *edges, None]
    ranges = []
    for i, (low, high) in enumerate(itertools.pairwise(bounds)):
        r: dict[str, Any] = {"key": str(i)}
        if low is not None:
            r["from"] = low
        if high is not None:
            r["to"] = high
        ranges.append(r)
    return {"range": {"field": "price", "ranges": ranges}}


def _category_counts(buckets: list[dict]) -> list[CategoryCount]:
    """Leaf counts rolled up the tree (a product has one category, so the sums are exact)."""
    counts: dict[tuple[str, ...], int] = {}
    for bucket in buckets:
        path = tuple(p for p in bucket["key"].split("\x00") if p)
        for depth in range(1, len(path) + 1):
            counts[path[:depth]] = counts.get(path[:depth], 0) + bucket["doc_count"]
    return [CategoryCount(path=path, count=n) for path, n in sorted(counts.items())]


def _attribute_counts(buckets: list[dict]) -> dict[str, list[ValueCount]]:
    merged: dict[str, dict[str, list]] = {}  # key -> casefolded value -> [label, count]
    for bucket in buckets:
        key, _, value = bucket["key"].partition("=")
        entry = merged.setdefault(key, {}).setdefault(value.casefold(), [value, 0])
        entry[1] += bucket["doc_count"]
    return {
        key: sorted((ValueCount(label, n) for label, n in values.values()), key=lambda v: (-v.count, v.value))
        for key, values in sorted(merged.items())
    }


def _price_counts(buckets: list[dict], edges: list[int]) -> list[PriceBucket]:
    by_key = {b["key"]: b["doc_count"] for b in buckets}
    bounds = [None, *edges, None]
    return [
        PriceBucket(min=low, max=high, count=by_key.get(str(i), 0))
        for i, (low, high) in enumerate(itertools.pairwise(bounds))
    ]


# --- the index --------------------------------------------------------------------------------------


@dataclass
class _Generation:
    name: str
    path: Path
    index: tantivy.Index
    writer: tantivy.IndexWriter


class _FacetCache:
    """Facet counts of recent searches, valid until the next commit: browsing a category aggregates over
    a large share of the catalog, and the same pages are asked for again and again."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._stamp: tuple[str, int] | None = None
        self._entries: OrderedDict[tuple, Facets] = OrderedDict()

    def get(self, stamp: tuple[str, int], key: tuple) -> Facets | None:
        if not self._size:
            return None
        with self._lock:
            if stamp != self._stamp:
                return None
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, stamp: tuple[str, int], key: tuple, facets: Facets) -> None:
        if not self._size:
            return
        with self._lock:
            if stamp != self._stamp:
                if self._stamp is not None and stamp < self._stamp:
                    return  # computed on a searcher older than what is cached now
                self._stamp, self._entries = stamp, OrderedDict()
            self._entries[key] = facets
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


@dataclass
class _HardDelete:
    product_id: str


@dataclass
class _Batch:
    states: dict[str, _State | None] = field(default_factory=dict)  # None: hard-deleted in this batch


Change = ProductCreated | ProductUpdated | ProductDeleted | InventoryChanged


def _register(index: tantivy.Index) -> None:
    index.register_tokenizer(_TEXT, _text_analyzer())
    index.register_tokenizer(_KEYWORD, _keyword_analyzer())


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

        generation = None
        pointer = self._read_pointer()
        if pointer is not None:
            name, version = pointer
            if version == SCHEMA_VERSION and (self.root / name).is_dir():
                try:
                    generation = self._open(self.root / name, create=False)
                except ValueError:  # schema mismatch or damage
                    generation = None
        if generation is None:
            self.needs_rebuild = True
            generation = self._open(self.root / self._next_name(), create=True)
            self._write_pointer(generation.name)
        self._gen = generation
        self._remove_generations(keep={generation.name})

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
        if create:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        index = tantivy.Index(SCHEMA, path=str(path), reuse=not create)
        _register(index)
        index.config_reader(reload_policy="manual")
        writer = index.writer(self._writer_heap, 1)
        return _Generation(name=path.name, path=path, index=index, writer=writer)

    def _read_pointer(self) -> tuple[str, int] | None:
        try:
            data = orjson.loads((self.root / _POINTER).read_bytes())
            return str(data["current"]), int(data["schema"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_pointer(self, name: str) -> None:
        tmp = self.root / f"{_POINTER}.tmp"
        with open(tmp, "wb") as f:
            f.write(orjson.dumps({"current": name, "schema": SCHEMA_VERSION}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / _POINTER)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _generations(self) -> list[str]:
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and p.name[:1] == "g" and p.name[1:].isdigit()
        )

    def _next_name(self) -> str:
        existing = [int(name[1:]) for name in self._generations()]
        return f"g{max(existing, default=0) + 1:06d}"

    def _remove_generations(self, *, keep: set[str]) -> None:
        for name in self._generations():
            if name not in keep:
                shutil.rmtree(self.root / name, ignore_errors=True)

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
        batch = _Batch()
        applied = 0
        try:
            for change in changes:
                applied += self._apply_one(gen, batch, change)
            if applied:
                gen.writer.commit()
        except BaseException:
            gen.writer.rollback()
            raise
        if applied:
            gen.index.reload()
            self._version += 1
        return applied

    def _apply_one(self, gen: _Generation, batch: _Batch, change: Change | _HardDelete) -> bool:
        if isinstance(change, _HardDelete):
            if self._current(gen, batch, change.product_id) is None:
                return False
            gen.writer.delete_documents_by_term("id", change.product_id)
            batch.states[change.product_id] = None
            return True
        current = self._current(gen, batch, change.product_id)
        if isinstance(change, ProductDeleted):
            deleted_at = _utc(change.deleted_at)
            if current is not None and current.version > deleted_at:
                return False
            self._put(gen, batch, _State(change.product_id, None, deleted_at=deleted_at))
            return True
        if isinstance(change, InventoryChanged):
            return self._apply_inventory(gen, batch, current, change)
        return self._apply_snapshot(gen, batch, current, change)

    def _apply_snapshot(
        self, gen: _Generation, batch: _Batch, current: _State | None, product: Product
    ) -> bool:
        updated_at = _utc(product.updated_at)
        stock_at: dict[str, datetime] = {}
        if current is not None:
            if current.product is None and updated_at <= current.version:  # deleted after this snapshot
                return False
            if updated_at < current.version:
                return False
            if current.product is not None:  # stock heard of after this snapshot was taken stays
                known = {v.sku: v.available for v in current.product.variants}
                later = {sku: at for sku, at in current.stock_at.items() if at > updated_at and sku in known}
                if later:
                    variants = tuple(
                        v.model_copy(update={"available": known[v.sku]}) if v.sku in later else v
                        for v in product.variants
                    )
                    product = product.model_copy(update={"variants": variants})
                    stock_at = {sku: at for sku, at in later.items() if any(v.sku == sku for v in variants)}
        self._put(gen, batch, _State(product.product_id, product, stock_at=stock_at))
        return True

    def _apply_inventory(
        self, gen: _Generation, batch: _Batch, current: _State | None, change: InventoryChanged
    ) -> bool:
        if current is None or current.product is None:
            return False
        product = current.product
        if not any(v.sku == change.sku for v in product.variants):
            return False
        changed_at = _utc(change.changed_at)
        if changed_at < max(current.stock_at.get(change.sku, current.version), current.version):
            return False
        variants = tuple(
            v.model_copy(update={"available": change.available}) if v.sku == change.sku else v
            for v in product.variants
        )
        state = _State(
            current.product_id,
            product.model_copy(update={"variants": variants}),
            stock_at={**current.stock_at, change.sku: changed_at},
        )
        self._put(gen, batch, state)
        return True

    def _put(self, gen: _Generation, batch: _Batch, state: _State) -> None:
        gen.writer.delete_documents_by_term("id", state.product_id)
        gen.writer.add_document(_document(state))
        batch.states[state.product_id] = state

    def _current(self, gen: _Generation, batch: _Batch, product_id: str) -> _State | None:
        if product_id in batch.states:
            return batch.states[product_id]
        return self._stored(gen.index.searcher(), product_id)

    @staticmethod
    def _stored(searcher: tantivy.Searcher, product_id: str) -> _State | None:
        hits = searcher.search(Q.term_query(SCHEMA, "id", product_id), 1).hits
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
                path = self.root / self._next_name()
                path.mkdir(parents=True)
            indexed = self._bulk_load(path, snapshots, on_progress)
            gen = self._open(path, create=False)
            with self._lock:
                replay, self._replay = self._replay, None
                if replay:
                    self._apply_to(gen, replay)
                gen.index.reload()
                old, self._gen = self._gen, gen
                self._write_pointer(gen.name)
            if old.writer is not None:
                old.writer.wait_merging_threads()
                old.writer = None  # type: ignore[assignment]
            # The generation just retired stays until the next rebuild or restart: a query that took
            # its searcher before the swap may still be reading it.
            self._remove_generations(keep={gen.name, old.name})
            path = None
            return indexed
        finally:
            with self._lock:
                self._replay = None
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
            self._rebuilding.release()

    @staticmethod
    def _bulk_load(
        path: Path, snapshots: Iterable[Product], on_progress: Callable[[int], None] | None
    ) -> int:
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
                writer.add_document(_document(_State(product.product_id, product)))
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

    # -- reading

    def count(self) -> int:
        """Products that can be found."""
        return self._gen.index.searcher().search(_combine(None, []), 1).count

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
    ) -> SearchResults:
        """Products matching `query` (all of them when it is empty) and every filter.

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
        filters: dict[str, tantivy.Query] = {}
        if cleaned_category:
            filters["category"] = _category_filter(cleaned_category)
        if prices is not None:
            filters["price"] = _price_filter(*prices)
        filters.update(_attribute_filters(selection, live=in_stock))
        if in_stock:
            filters["in_stock"] = Q.term_query(SCHEMA, "in_stock", True)

        gen = self._gen
        stamp = (gen.name, self._version)  # read before the searcher: what is cached is never older
        searcher = gen.index.searcher()
        full = _combine(text, filters.values())
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
                tuple(_tokens((query or "")[:MAX_QUERY_CHARS])),
                cleaned_category,
                prices,
                selection,
                bool(in_stock),
                tuple(edges),
            )
            facet_counts = self._facet_cache.get(stamp, key)
            if facet_counts is None:
                facet_counts = self._facets(searcher, text, filters, in_stock, edges)
                self._facet_cache.put(stamp, key, facet_counts)
        return SearchResults(total=result.count, hits=hits, facets=facet_counts, offset=offset, limit=limit)

    @staticmethod
    def _facets(
        searcher: tantivy.Searcher,
        text: tantivy.Query | None,
        filters: dict[str, tantivy.Query],
        in_stock: bool,
        edges: list[int],
    ) -> Facets:
        aggregations = {
            "category": {"terms": {"field": "category", "size": MAX_FACET_TERMS}},
            "attributes": {
                "terms": {"field": "attr_live_label" if in_stock else "attr_label", "size": MAX_FACET_TERMS}
            },
            "price": _price_aggregation(edges),
        }

        def run(without: str | None, names: list[str]) -> dict:
            query = _combine(text, [f for key, f in filters.items() if key != without])
            return searcher.aggregate(query, {name: aggregations[name] for name in names})

        main = run(None, [name for name in ("category", "price") if name not in filters] + ["attributes"])
        categories = (run("category", ["category"]) if "category" in filters else main)["category"]
        price = (run("price", ["price"]) if "price" in filters else main)["price"]
        attributes = _attribute_counts(main["attributes"]["buckets"])
        for key in filters:
            if key.startswith("attr:"):
                name = key.removeprefix("attr:")
                alone = _attribute_counts(run(key, ["attributes"])["attributes"]["buckets"])
                if name in alone:
                    attributes[name] = alone[name]
                else:
                    attributes.pop(name, None)
        return Facets(
            categories=_category_counts(categories["buckets"]),
            attributes=dict(sorted(attributes.items())),
            price=_price_counts(price["buckets"], edges),
        )

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Product names completing `prefix`, ignoring case and separators ("t-sh", "tsh" -> "T-Shirt
        ..."); names starting with it come first, then names with a word starting with it, shorter
        first."""
        key = compact((prefix or "")[:MAX_PREFIX_CHARS])
        limit = max(0, min(int(limit), MAX_SUGGESTIONS))
        if not key or not limit:
            return []
        starts = Q.fuzzy_term_query(SCHEMA, "suggest_full", key, 0, True, prefix=True)
        contains = Q.fuzzy_term_query(SCHEMA, "suggest_words", key, 0, True, prefix=True)
        query = _combine(
            Q.boolean_query(
                [
                    (tantivy.Occur.Should, Q.const_score_query(starts, 2.0)),
                    (tantivy.Occur.Should, Q.const_score_query(contains, 1.0)),
                ]
            ),
            [],
        )
        searcher = self._gen.index.searcher()
        candidates = []
        for score, address in searcher.search(query, limit * 5).hits:
            data = orjson.loads(searcher.doc(address).get_first("hit"))
            candidates.append((-score, len(data["name"]), data["name"], data))
        suggestions: dict[str, Suggestion] = {}
        for _, _, name, data in sorted(candidates, key=lambda c: c[:3]):
            suggestions.setdefault(name.casefold(), Suggestion(name, data["product_id"], data["slug"]))
        return list(suggestions.values())[:limit]
