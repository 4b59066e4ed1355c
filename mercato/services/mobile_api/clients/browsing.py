"""Catalog and search, as the public screens use them: the category tree, product lists (a category's,
or search's results with facets), suggestions, a product page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.contracts.money import Money
from mercato.platform.clients import ServiceClient
from mercato.services.mobile_api.clients.common import Params, in_market, money, segment


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    children: tuple[Category, ...]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Category:
        children = tuple(cls.parse(child) for child in body.get("children") or ())
        return cls(slug=body["slug"], name=body["name"], children=children)


@dataclass(frozen=True)
class ProductEntry:
    """A product in a list, from catalog's listing or a search hit: what a card shows."""

    id: str
    slug: str
    name: str
    brand: str
    image_url: str | None
    lowest: Money
    highest: Money
    available: bool

    @classmethod
    def from_catalog(cls, body: dict[str, Any]) -> ProductEntry:
        image = body.get("image")
        return cls(
            id=body["id"],
            slug=body["slug"],
            name=body["name"],
            brand=body["brand"],
            image_url=image["url"] if image else None,
            lowest=money(body["price_range"]["min"]),
            highest=money(body["price_range"]["max"]),
            available=body["available"],
        )

    @classmethod
    def from_search(cls, body: dict[str, Any]) -> ProductEntry:
        return cls(
            id=body["id"],
            slug=body["slug"],
            name=body["name"],
            brand=body["brand"],
            image_url=body.get("image_url"),
            lowest=money(body["price_range"]["min"]),
            highest=money(body["price_range"]["max"]),
            available=body["available"],
        )


@dataclass(frozen=True)
class Market:
    """The market catalog priced an answer for."""

    id: str
    currency: str
    prices_include_tax: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Market:
        return cls(id=body["id"], currency=body["currency"], prices_include_tax=body["prices_include_tax"])


@dataclass(frozen=True)
class ProductList:
    entries: tuple[ProductEntry, ...]
    next_cursor: str | None
    facets: dict[str, list[tuple[str, int]]]  # attribute → (value, count), from search only
    market: Market | None  # catalog's lists say it


@dataclass(frozen=True)
class Variant:
    sku: str
    attributes: dict[str, str]
    price: Money | None  # None: not sold in the market
    available: int


@dataclass(frozen=True)
class Product:
    id: str
    slug: str
    name: str
    brand: str
    description: str
    image_urls: tuple[str, ...]
    lowest: Money | None  # None: not sold in the market
    highest: Money | None
    available: bool
    options: dict[str, list[str]]
    variants: tuple[Variant, ...]
    market: Market

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Product:
        prices = body["price_range"]
        return cls(
            id=body["id"],
            slug=body["slug"],
            name=body["name"],
            brand=body["brand"],
            description=body["description"],
            image_urls=tuple(image["url"] for image in body["images"]),
            lowest=money(prices["min"]) if prices else None,
            highest=money(prices["max"]) if prices else None,
            available=body["available"],
            options={name: list(values) for name, values in body["attributes"].items()},
            variants=tuple(
                Variant(
                    sku=v["sku"],
                    attributes=v["attributes"],
                    price=money(v["price"]) if v["price"] else None,
                    available=v["available"],
                )
                for v in body["variants"]
            ),
            market=Market.parse(body["market"]),
        )


class Catalog:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("catalog", base_url, timeout=timeout)

    async def categories(self) -> list[Category]:
        body = await self.client.request("GET", "/api/v1/categories")
        return [Category.parse(node) for node in body["data"]]

    async def products(self, params: Params) -> ProductList:
        body = await self.client.request("GET", "/api/v1/products", params=list(params))
        entries = tuple(ProductEntry.from_catalog(entry) for entry in body["data"])
        return ProductList(
            entries=entries,
            next_cursor=body.get("next_cursor"),
            facets={},
            market=Market.parse(body["market"]),
        )

    async def product(self, id_or_slug: str, country: str | None) -> Product:
        path = f"/api/v1/products/{segment(id_or_slug)}"
        return Product.parse(await self.client.request("GET", path, params=in_market(country)))


class Search:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("search", base_url, timeout=timeout)

    async def search(self, params: Params) -> ProductList:
        body = await self.client.request("GET", "/api/v1/search", params=list(params))
        facets = body.get("facets") or {}
        return ProductList(
            entries=tuple(ProductEntry.from_search(hit) for hit in body["data"]),
            next_cursor=body.get("next_cursor"),
            facets={
                name: [(value["value"], value["count"]) for value in values]
                for name, values in (facets.get("attributes") or {}).items()
            },
            market=None,
        )

    async def suggest(self, q: str, country: str | None) -> list[str]:
        params = {"q": q, **in_market(country)}
        body = await self.client.request("GET", "/api/v1/search/suggest", params=params)
        return [suggestion["text"] for suggestion in body["data"]]
