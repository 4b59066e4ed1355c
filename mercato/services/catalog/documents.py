"""The bytes of the browsing read model: a product page and a product list entry as stored JSON parts, and
the responses joined from them.

Everything in a page or a list entry is rendered once, when the product changes — except the units
available, which change with every reservation (each checkout, each expiry) and are read live. So a
stored document is the JSON split where those figures go:

    detail:  {"id":…,"price_range":{…},"tax_class":…,"available": ␀ ,"variants":[{…,"available": ␀ },…],…}
    summary: {"id":…,"price_range":{…},"available": ␀ ,"image":…}

(␀ is a NUL byte: JSON text can never contain one, strings escape it as \\u0000). A read fetches the parts
and each SKU's units in one statement and joins them: no object loading, no validation, no encoding of
anything but a few numbers. The result is byte for byte what the pydantic models (`ProductDetail`,
`ProductSummary`, `Page`) would serialise, field order included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mercato.services.catalog.schemas import MarketRef, ProductDetail, ProductSummary

FORMAT = "3"  # bump when the bytes change shape: every document is rebuilt at the next start
SLOT = b"\x00"


def fingerprint(image_base_url: str, markets: Iterable[str]) -> str:
    """What a document was built with: its format, the image URL prefix baked into it and the markets
    (each as its id, currency and tax setting) it was priced for."""
    text = " ".join([FORMAT, image_base_url, *markets])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Document:
    """One product's stored read model, one row per market (`models.ProductDocument`), plus the categories
    it is listed under."""

    product_id: str
    slug: str
    visible: bool
    skus: tuple[str, ...]
    detail: Mapping[str, bytes]  # market id → page parts (every market: a page says "not for sale")
    summary: Mapping[str, bytes]  # market id → list entry parts, for the markets it is listed in
    category_ids: tuple[str, ...]  # the product's category and every one above it


def _members(fields: Mapping[str, Any]) -> bytes:
    """`"a":1,"b":2`: an object's members without its braces."""
    return orjson.dumps(fields)[1:-1]


def _split(fields: dict[str, Any], at: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields before `at` and those after it (`at` itself left out)."""
    names = list(fields)
    where = names.index(at)
    return {n: fields[n] for n in names[:where]}, {n: fields[n] for n in names[where + 1 :]}


def detail_parts(detail: ProductDetail) -> bytes:
    """The page's parts: `available` comes right before `variants`, and is each variant's last field."""
    head, tail = _split(detail.model_dump(mode="json"), "available")
    variants = tail.pop("variants")
    parts = [b"{" + _members(head) + b',"available":']
    for index, variant in enumerate(variants):
        before, _ = _split(variant, "available")
        opening = b',"variants":[{' if index == 0 else b"},{"
        parts.append(opening + _members(before) + b',"available":')
    parts.append(b"}]," + _members(tail) + b"}")
    return SLOT.join(parts)


def summary_parts(summary: ProductSummary) -> bytes:
    head, tail = _split(summary.model_dump(mode="json"), "available")
    return b"{" + _members(head) + b',"available":' + SLOT + b"," + _members(tail) + b"}"


def detail_body(detail: bytes, skus: Sequence[str], units: Mapping[str, int]) -> bytes:
    """The product page: the stored parts with each variant's units available now."""
    available = [max(units.get(sku, 0), 0) for sku in skus]
    parts = detail.split(SLOT)
    joined = [parts[0], b"true" if any(n > 0 for n in available) else b"false"]
    for part, n in zip(parts[1:-1], available, strict=True):
        joined += [part, str(n).encode()]
    joined.append(parts[-1])
    return b"".join(joined)


def summary_body(summary: bytes, in_stock: bool) -> bytes:
    return summary.replace(SLOT, b"true" if in_stock else b"false", 1)


def page_body(entries: Iterable[bytes], next_cursor: str | None, market: MarketRef) -> bytes:
    """A page of the product list, as `ProductPage` serialises."""
    return (
        b'{"data":['
        + b",".join(entries)
        + b'],"next_cursor":'
        + orjson.dumps(next_cursor)
        + b',"market":'
        + orjson.dumps(market.model_dump(mode="json"))
        + b"}"
    )


def parse_units(text: str | None) -> dict[str, int]:
    """`SKU-1 3,SKU-2 0` (the read's aggregate of a product's stock) → {"SKU-1": 3, "SKU-2": 0}."""
    units = {}
    for item in (text or "").split(","):
        if item:
            sku, _, n = item.partition(" ")
            units[sku] = int(n)
    return units
