"""Everything between the API's JSON and the templates: money, product cards, categories, facets, JSON-LD."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from mercato.webkit.countries import COUNTRIES, country_name
from mercato.webkit.money import decimal_string, format_money

SORTS = {
    "relevance": "Relevance",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "newest": "Newest",
}

HERE = Path(__file__).parent


def format_price_range(price_range: dict[str, Any] | None) -> str:
    if not price_range:
        return ""
    low, high = price_range.get("min"), price_range.get("max")
    if low and high and low["amount"] != high["amount"]:
        return f"from {format_money(low)}"
    return format_money(low or high)


def was_price(product: dict[str, Any]) -> str:
    """While on sale, the list price to strike through beside `price_range`: a catalog entry's
    `compare_at_price_range` (its lowest, as "from" goes) or a search hit's `compare_at_price`."""
    compare = product.get("compare_at_price_range") or {}
    listed = compare.get("min") or product.get("compare_at_price")
    return format_money(listed) if listed else ""


def sale_badge(product: dict[str, Any]) -> str:
    """The sale's name (a catalog entry names it; a search hit only says it is on sale)."""
    sale = product.get("sale") or {}
    return sale.get("name") or ("Sale" if was_price(product) else "")


def card(product: dict[str, Any]) -> dict[str, Any]:
    """One product tile from either a catalog list item or a search hit (their shapes differ a little)."""
    image = product.get("image") or {}
    return {
        "slug": product["slug"],
        "name": product["name"],
        "brand": product.get("brand") or "",
        "price": format_price_range(product.get("price_range")),
        "was": was_price(product),
        "sale": sale_badge(product),
        "available": bool(product.get("available")),
        "image_url": image.get("url") or product.get("image_url"),
        "image_alt": image.get("alt") or product["name"],
    }


# --- categories ----------------------------------------------------------------------------------
def flatten(tree: list[dict[str, Any]], trail: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    """Every category, depth-first, each with its `trail` (ancestors, itself last)."""
    out: list[dict[str, Any]] = []
    for node in tree:
        here = (*trail, node)
        out.append({"slug": node["slug"], "name": node["name"], "trail": here, "depth": len(trail)})
        out.extend(flatten(node.get("children") or [], here))
    return out


def category_label(path: list[str], names: dict[str, str]) -> str:
    return " \u203a ".join(names.get(slug, slug) for slug in path)


# --- search filters and facets ---------------------------------------------------------------------
FILTER_ATTRIBUTES = ("size", "colour")


class Filters:
    """The shopper's filters, read from the page's query string and turned into the search API's."""

    def __init__(self, query: Any) -> None:
        self.q = (query.get("q") or "").strip()[:200]
        self.category = query.get("category") or None
        self.attributes = {name: query.getlist(name)[:20] for name in FILTER_ATTRIBUTES}
        self.price = query.get("price") or ""
        self.in_stock = query.get("in_stock") in ("1", "true", "on")
        sort = query.get("sort") or ""
        self.sort = sort if sort in SORTS else ""
        self.cursor = query.get("cursor") or None

    def price_bounds(self) -> tuple[int | None, int | None]:
        low, _, high = self.price.partition("-")
        try:
            return (int(low) if low else None, int(high) if high else None)
        except ValueError:
            return (None, None)

    def api_params(self, limit: int) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("q", self.q), ("limit", str(limit))]
        if self.category:
            params.append(("category", self.category))
        for name, values in self.attributes.items():
            params.extend((f"attr.{name}", value) for value in values)
        low, high = self.price_bounds()
        if low is not None:
            params.append(("min_price", str(low)))
        if high is not None:
            params.append(("max_price", str(high - 1)))  # buckets are [min, max)
        if self.in_stock:
            params.append(("in_stock", "true"))
        if self.sort:
            params.append(("sort", self.sort))
        if self.cursor:
            params.append(("cursor", self.cursor))
        return params

    def page_params(self, *, cursor: str | None = None, with_category: bool = True) -> str:
        """This page's query string (for the next page link), without the current cursor."""
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        if with_category and self.category:
            params.append(("category", self.category))
        for name, values in self.attributes.items():
            params.extend((name, value) for value in values)
        if self.price:
            params.append(("price", self.price))
        if self.in_stock:
            params.append(("in_stock", "1"))
        if self.sort:
            params.append(("sort", self.sort))
        if cursor:
            params.append(("cursor", cursor))
        return urlencode(params)

    @property
    def active(self) -> bool:
        return bool(any(self.attributes.values()) or self.price or self.in_stock)


def price_buckets(facets: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    out = []
    for bucket in facets.get("price") or []:
        low, high, count = bucket.get("min"), bucket.get("max"), bucket.get("count", 0)
        if not count:
            continue
        if low is None:
            label = f"Under {format_money({'amount': high, 'currency': currency})}"
        elif high is None:
            label = f"{format_money({'amount': low, 'currency': currency})} and above"
        else:
            label = (
                f"{format_money({'amount': low, 'currency': currency})} \u2013 "
                f"{format_money({'amount': high, 'currency': currency})}"
            )
        value = f"{low if low is not None else ''}-{high if high is not None else ''}"
        out.append({"value": value, "label": label, "count": count})
    return out


# --- the product page --------------------------------------------------------------------------------
def pick_variant(product: dict[str, Any], size: str | None, colour: str | None) -> dict[str, Any] | None:
    """The variant the picker points at: both attributes chosen, or the only variant there is."""
    variants = product.get("variants") or []
    if len(variants) == 1:
        return variants[0]
    for variant in variants:
        attributes = variant.get("attributes") or {}
        if attributes.get("size") == size and attributes.get("colour") == colour:
            return variant
    return None


def option_values(product: dict[str, Any], name: str) -> list[str]:
    values = (product.get("attributes") or {}).get(name)
    if values:
        return list(values)
    seen: dict[str, None] = {}
    for variant in product.get("variants") or []:
        value = (variant.get("attributes") or {}).get(name)
        if value:
            seen.setdefault(value, None)
    return list(seen)


def pick_label(size: str | None, colour: str | None) -> str:
    """A pick as a shopper says it: "Blush Pink, size L"."""
    return ", ".join(part for part in (colour, f"size {size}" if size else None) if part) or "this option"


def stock_by_options(product: dict[str, Any]) -> dict[tuple[str | None, str | None], int]:
    return {
        ((v.get("attributes") or {}).get("size"), (v.get("attributes") or {}).get("colour")): int(
            v.get("available") or 0
        )
        for v in product.get("variants") or []
    }


def image_colour(image: dict[str, Any], colours: list[str]) -> str | None:
    """The colour an image shows, if it says: the catalog's images are named and described after it
    ("…-blush-pink.svg", "Classic Cotton T-Shirt in Blush Pink")."""
    alt, name = (image.get("alt") or "").lower(), (image.get("url") or "").rsplit("/", 1)[-1].lower()
    for colour in sorted(colours, key=len, reverse=True):  # "Denim Blue" before "Blue"
        if alt.endswith(f" in {colour.lower()}") or f"-{colour.lower().replace(' ', '-')}." in name:
            return colour
    return None


def gallery(product: dict[str, Any], colour: str | None) -> list[dict[str, Any]]:
    """The product's images, each with the colour it shows; the picked colour's image first."""
    colours = option_values(product, "colour")
    images = [image | {"colour": image_colour(image, colours)} for image in product.get("images") or []]
    return sorted(images, key=lambda image: colour is None or image["colour"] != colour)


def picker_json(product: dict[str, Any]) -> Markup:
    """What product.js needs to follow the pick: each variant's options, SKU, price and stock."""
    variants = [
        {
            "sku": variant["sku"],
            "size": (variant.get("attributes") or {}).get("size"),
            "colour": (variant.get("attributes") or {}).get("colour"),
            "price": format_money(variant["price"]),
            "was": format_money(variant["compare_at_price"]) if variant.get("compare_at_price") else "",
            "available": int(variant.get("available") or 0),
        }
        for variant in product.get("variants") or []
    ]
    return json_markup({"variants": variants})


def json_markup(data: Any) -> Markup:
    # Inside <script>, "</" could end the element: escape it (and friends) as JSON allows.
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))  # noqa: S704 - JSON with every markup character escaped


def availability(quantity: int) -> str:
    return "https://schema.org/InStock" if quantity > 0 else "https://schema.org/OutOfStock"


def product_json_ld(product: dict[str, Any], url: str, base: str) -> Markup:
    offers = [
        {
            "@type": "Offer",
            "sku": variant["sku"],
            "price": decimal_string(variant["price"]),
            "priceCurrency": variant["price"]["currency"],
            "availability": availability(int(variant.get("available") or 0)),
            "url": url,
            "itemCondition": "https://schema.org/NewCondition",
        }
        for variant in product.get("variants") or []
        if variant.get("price")  # null: not sold in the shopper's market
    ]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product["name"],
        "description": product.get("description") or "",
        "url": url,
        "image": [base + image["url"] for image in product.get("images") or []],
        "offers": offers,
    }
    if product.get("brand"):
        data["brand"] = {"@type": "Brand", "name": product["brand"]}
    if len(offers) == 1:
        data["sku"] = offers[0]["sku"]
    return json_markup(data)


def meta_description(text: str, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def format_when(value: str | None) -> str:
    """An API timestamp ("2024-05-01T12:34:56.789+00:00") as "2024-05-01 12:34 UTC"."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def state_label(state: str) -> str:
    return state.replace("_", " ").capitalize()


# --- templates ---------------------------------------------------------------------------------------
def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(enabled_extensions=("jinja", "html", "xml"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["when"] = format_when
    env.filters["state"] = state_label
    env.filters["country"] = country_name
    env.globals["countries"] = COUNTRIES
    return Jinja2Templates(env=env)
