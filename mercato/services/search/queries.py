"""Turning what a shopper typed, and the filters they picked, into Tantivy queries.

Text is never given to Tantivy's query parser: it is tokenized like the indexed text and every token
becomes a query over all text fields, typo-tolerant (fuzzy) where that is affordable, so no input is a
syntax error. Filters are scored zero; only the text ranks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import tantivy

from mercato.services.search.documents import (
    _STEM,
    MAX_FILTER_CHARS,
    MAX_TOKEN_CHARS,
    SCHEMA,
    _attribute_key,
    _facet,
    _tokens,
)

MAX_QUERY_CHARS = 1_000  # what is analysed of a query string; the rest is ignored
MAX_TERMS = 16  # query tokens used
MAX_FILTER_ATTRIBUTES = 16
MAX_FILTER_VALUES = 32
MAX_PRICE = 2**62


# Field weights. Exact (BM25-scored) term matches are boosted by the weight; a fuzzy match scores a
# constant FUZZY_FACTOR * weight, so an exact match of a field outranks a typo-tolerant one.
W_NAME, W_COMPACT, W_BRAND, W_CATEGORY, W_ATTRIBUTE, W_DESCRIPTION = 4.0, 3.5, 2.0, 2.0, 1.5, 1.0
FUZZY_FACTOR = 0.3
PHRASE_BOOST = 3.0
EXACT_NAME_SCORE = 50.0  # the query is the product's name (ignoring case and separators)
TIE_BREAKER = 0.1

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


def _combine(currency: str, text: tantivy.Query | None, filters: Iterable[tantivy.Query]) -> tantivy.Query:
    """Products sold in `currency` (its priced documents) matching `text` and every filter."""
    clauses = [(tantivy.Occur.Must, Q.term_query(SCHEMA, "currency", currency))]
    if text is not None:
        clauses.append((tantivy.Occur.Must, text))
    clauses += [(tantivy.Occur.Must, Q.const_score_query(f, 0.0)) for f in filters]
    return Q.boolean_query(clauses)


def _filters(
    cleaned_category: str,
    prices: tuple[int, int] | None,
    selection: tuple[tuple[str, tuple[str, ...]], ...],
    *,
    in_stock: bool,
) -> dict[str, tantivy.Query]:
    """The filters of a search by dimension ("category", "price", "attr:<key>", "in_stock"); a product
    must match all of them."""
    filters: dict[str, tantivy.Query] = {}
    if cleaned_category:
        filters["category"] = _category_filter(cleaned_category)
    if prices is not None:
        filters["price"] = _price_filter(*prices)
    filters.update(_attribute_filters(selection, live=in_stock))
    if in_stock:
        filters["in_stock"] = Q.term_query(SCHEMA, "in_stock", True)
    return filters


def _suggest_query(currency: str, key: str) -> tantivy.Query:
    """Products sold in `currency` whose name (in compact form) starts with `key`, scored 2, or has a word
    starting with it, scored 1."""
    starts = Q.fuzzy_term_query(SCHEMA, "suggest_full", key, 0, True, prefix=True)
    contains = Q.fuzzy_term_query(SCHEMA, "suggest_words", key, 0, True, prefix=True)
    return _combine(
        currency,
        Q.boolean_query(
            [
                (tantivy.Occur.Should, Q.const_score_query(starts, 2.0)),
                (tantivy.Occur.Should, Q.const_score_query(contains, 1.0)),
            ]
        ),
        [],
    )
