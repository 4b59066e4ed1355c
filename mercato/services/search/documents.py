"""The Tantivy side of a product: the schema, the analyzers, and the one document a product becomes.

What the index keeps per product, every document carrying the product id (`id`):

* one state document (`state_of`): the whole last snapshot (`state`, stored; see `state.py`) so an
  `InventoryChanged` can be folded into it and the product re-indexed without asking catalog anything,
  and so an out-of-order redelivery can be recognised;
* one priced document per currency the product has a price in (`currency`; a market's shoppers search
  the documents of its currency, so a product without a price in it is never found there), each with
  the searchable text: name (highest boost), a compact form of the name without separators ("T-Shirt" ->
  "tshirt"), brand and category slugs, attribute values, description (lowest); and the filter/sort/facet
  fields of the variants sold in that currency: the category path as a hierarchical facet, the minimum
  price in that currency as shoppers pay it now (minor units; a sale's price while one lowers it: the
  snapshot's `sale_prices`, re-published by catalog whenever a sale starts or ends), attribute
  `key=value` pairs of all those variants and of the in-stock ones, in-stock flag, creation time; the
  hit shows the cheapest list price beside it while a sale lowers the price (`compare_at`).

An archived or deleted product (or one with nothing to sell) has only its state document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson
import tantivy

from mercato.contracts.events import VariantSnapshot
from mercato.services.search.state import Product, _State, _utc

SCHEMA_VERSION = 3
"""Bumped whenever the schema or the analysis changes: an index of another version needs a rebuild."""

MAX_TOKEN_CHARS = 40  # longer tokens are dropped (the index drops them too)
MAX_FILTER_CHARS = 200

_TEXT = "mercato_text"  # simple tokens, long ones dropped, lowercased, ASCII-folded, English stemming
_KEYWORD = "mercato_keyword"  # the whole value, lowercased


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
    b.add_text_field("state_of", tokenizer_name="raw", index_option="basic")
    b.add_text_field("currency", tokenizer_name="raw", index_option="basic")
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


def _register(index: tantivy.Index) -> None:
    index.register_tokenizer(_TEXT, _text_analyzer())
    index.register_tokenizer(_KEYWORD, _keyword_analyzer())


def _micros(moment: datetime) -> int:
    return int(_utc(moment).timestamp() * 1_000_000)


def _tokens(text: str) -> list[str]:
    """Lowercased, ASCII-folded alphanumeric runs: "T-Shirt (Men's)" -> t, shirt, men, s."""
    return _FOLD.analyze(text)


def compact(text: str) -> str:
    """The text without case, accents and anything but letters and digits: "T-Shirt" -> "tshirt"."""
    return "".join(_tokens(text))


def _attribute_key(key: str) -> str:
    return key.strip().lower().replace("=", "-")[:MAX_FILTER_CHARS]


def _attribute_pairs(attributes: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(_attribute_key(k), v.strip()) for k, v in attributes.items() if k.strip() and v.strip()]


def _facet(path: Sequence[str]) -> tantivy.Facet:
    parts = [p.replace("/", "-").replace("\\", "-") for p in path]
    return tantivy.Facet.from_string("/" + "/".join(parts))


def variant_prices(variant: VariantSnapshot) -> dict[str, int]:
    """A variant's list price per currency (minor units): its price list, or the one price of an event
    from before price lists."""
    prices = {m.currency: m.amount for m in variant.prices}
    if not prices and variant.price is not None:
        prices[variant.price.currency] = variant.price.amount
    return prices


def current_prices(variant: VariantSnapshot) -> dict[str, tuple[int, int]]:
    """Per currency: (what the variant costs now, its list price) — a sale's price where one lowers it."""
    on_sale = {m.currency: m.amount for m in variant.sale_prices}
    return {c: (on_sale.get(c, amount), amount) for c, amount in variant_prices(variant).items()}


def _documents(state: _State) -> list[tantivy.Document]:
    """The state document, then one priced document per currency the product is sold in."""
    doc = tantivy.Document()
    doc.add_text("id", state.product_id)
    doc.add_text("state_of", state.product_id)
    doc.add_bytes("state", state.dump())
    if not state.visible:  # archived, deleted, nothing to sell: kept only for the ordering guard
        return [doc]
    p = state.product
    assert p is not None
    by_currency: dict[str, list[tuple[VariantSnapshot, int, int]]] = {}
    for variant in p.variants:
        for currency, (amount, listed) in current_prices(variant).items():
            by_currency.setdefault(currency, []).append((variant, amount, listed))
    return [doc, *(_priced(p, currency, sold) for currency, sold in sorted(by_currency.items()))]


def _priced(p: Product, currency: str, sold: list[tuple[VariantSnapshot, int, int]]) -> tantivy.Document:
    """What shoppers paying in `currency` find of a product: the variants with a price in it."""
    doc = tantivy.Document()
    doc.add_text("id", p.product_id)
    doc.add_text("currency", currency)

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
    for variant, _, _ in sold:
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

    prices = [amount for _, amount, _ in sold]
    listed = min(price for _, _, price in sold)
    in_stock = any(variant.available > 0 for variant, _, _ in sold)
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
                "compare_at": listed if listed > min(prices) else None,  # the cheapest list price, on sale
                "currency": currency,
                "in_stock": in_stock,
                "image_url": p.image_url,
            }
        ),
    )
    return doc
