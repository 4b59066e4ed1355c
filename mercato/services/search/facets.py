"""Facet counts of a search: categories (rolled up the tree), attribute values and price buckets.

Counts come from Tantivy aggregations over the query and the filters, shaped into the public
`Facets`. They are cached between commits (browsing a big category aggregates over much of the catalog,
and the same pages are asked for over and over).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import tantivy

from mercato.services.search.queries import MAX_PRICE, _combine

MAX_FACET_TERMS = 1_000
DEFAULT_PRICE_EDGES: tuple[int, ...] = (2_500, 5_000, 10_000, 20_000, 50_000)


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


def _facets(
    searcher: tantivy.Searcher,
    text: tantivy.Query | None,
    filters: dict[str, tantivy.Query],
    in_stock: bool,
    edges: list[int],
    currency: str,
) -> Facets:
    """Facet counts for `text` and `filters`; a filtered dimension (`filters` key "category", "price" or
    "attr:<key>") is counted without its own filter, so the alternatives to what is selected keep their
    counts."""
    aggregations = {
        "category": {"terms": {"field": "category", "size": MAX_FACET_TERMS}},
        "attributes": {
            "terms": {"field": "attr_live_label" if in_stock else "attr_label", "size": MAX_FACET_TERMS}
        },
        "price": _price_aggregation(edges),
    }

    def run(without: str | None, names: list[str]) -> dict:
        query = _combine(currency, text, [f for key, f in filters.items() if key != without])
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
