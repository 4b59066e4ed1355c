"""The four services the mobile API composes — catalog, search, orders, customers — called directly on
their private addresses, and their answers parsed into the few typed facts the screens use (screens never
read a payload). A service's problem (4xx) is raised as `RemoteProblem` and reaches the app unchanged; a
service that does not answer is `ServiceUnavailable` (503)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from mercato.contracts.money import Money
from mercato.platform.auth import CUSTOMER_HEADER, ISSUED_AT_HEADER, Shopper
from mercato.platform.clients import ServiceClient

Params = Sequence[tuple[str, str | int]]


def _segment(value: str) -> str:
    """A path parameter as one path segment, whatever it holds (`?`, `#`, `%`...)."""
    return quote(value, safe="")


def _money(body: dict[str, Any]) -> Money:
    return Money.model_validate(body)


# --- catalog and search -------------------------------------------------------------------------


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
            lowest=_money(body["price_range"]["min"]),
            highest=_money(body["price_range"]["max"]),
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
            lowest=_money(body["price_range"]["min"]),
            highest=_money(body["price_range"]["max"]),
            available=body["available"],
        )


@dataclass(frozen=True)
class ProductList:
    entries: tuple[ProductEntry, ...]
    next_cursor: str | None
    facets: dict[str, list[tuple[str, int]]]  # attribute → (value, count), from search only


@dataclass(frozen=True)
class Variant:
    sku: str
    attributes: dict[str, str]
    price: Money
    available: int


@dataclass(frozen=True)
class Product:
    id: str
    slug: str
    name: str
    brand: str
    description: str
    image_urls: tuple[str, ...]
    lowest: Money
    highest: Money
    available: bool
    options: dict[str, list[str]]
    variants: tuple[Variant, ...]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Product:
        return cls(
            id=body["id"],
            slug=body["slug"],
            name=body["name"],
            brand=body["brand"],
            description=body["description"],
            image_urls=tuple(image["url"] for image in body["images"]),
            lowest=_money(body["price_range"]["min"]),
            highest=_money(body["price_range"]["max"]),
            available=body["available"],
            options={name: list(values) for name, values in body["attributes"].items()},
            variants=tuple(
                Variant(
                    sku=v["sku"],
                    attributes=v["attributes"],
                    price=_money(v["price"]),
                    available=v["available"],
                )
                for v in body["variants"]
            ),
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
        return ProductList(entries=entries, next_cursor=body.get("next_cursor"), facets={})

    async def product(self, id_or_slug: str) -> Product:
        return Product.parse(await self.client.request("GET", f"/api/v1/products/{_segment(id_or_slug)}"))


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
        )

    async def suggest(self, q: str) -> list[str]:
        body = await self.client.request("GET", "/api/v1/search/suggest", params={"q": q})
        return [suggestion["text"] for suggestion in body["data"]]


# --- the shopper's own: orders and customers ----------------------------------------------------


def identity(shopper: Shopper, idempotency_key: str | None = None) -> dict[str, str]:
    """What the gateway told us about the shopper, passed on to the service as the gateway passed it."""
    headers = {CUSTOMER_HEADER: shopper.id}
    if shopper.issued_at is not None:
        headers[ISSUED_AT_HEADER] = str(shopper.issued_at)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


@dataclass(frozen=True)
class CartLine:
    sku: str
    product_id: str | None
    name: str | None
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money | None
    line_total: Money | None
    available: int
    purchasable: bool


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    subtotal: Money
    shipping: Money
    total: Money
    item_count: int
    purchasable: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Cart:
        return cls(
            lines=tuple(
                CartLine(
                    sku=line["sku"],
                    product_id=line["product_id"],
                    name=line["name"],
                    attributes=line["attributes"],
                    image_url=line["image_url"],
                    quantity=line["quantity"],
                    unit_price=_money(line["unit_price"]) if line["unit_price"] else None,
                    line_total=_money(line["line_total"]) if line["line_total"] else None,
                    available=line["available"],
                    purchasable=line["purchasable"],
                )
                for line in body["lines"]
            ),
            subtotal=_money(body["subtotal"]),
            shipping=_money(body["shipping"]),
            total=_money(body["total"]),
            item_count=body["item_count"],
            purchasable=body["purchasable"],
        )


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    line_total: Money


@dataclass(frozen=True)
class StateChange:
    state: str
    at: datetime


@dataclass(frozen=True)
class Order:
    id: str
    number: str | None
    state: str
    created_at: datetime
    placed_at: datetime | None
    subtotal: Money
    shipping: Money
    total: Money
    lines: tuple[OrderLine, ...]
    shipping_address: dict[str, Any]
    history: tuple[StateChange, ...]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    can_cancel: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Order:
        return cls(
            id=body["id"],
            number=body["number"],
            state=body["state"],
            created_at=datetime.fromisoformat(body["created_at"]),
            placed_at=datetime.fromisoformat(body["placed_at"]) if body["placed_at"] else None,
            subtotal=_money(body["subtotal"]),
            shipping=_money(body["shipping"]),
            total=_money(body["total"]),
            lines=tuple(
                OrderLine(
                    sku=line["sku"],
                    name=line["name"],
                    attributes=line["attributes"],
                    image_url=line["image_url"],
                    quantity=line["quantity"],
                    line_total=_money(line["line_total"]),
                )
                for line in body["lines"]
            ),
            shipping_address=body["shipping_address"],
            history=tuple(
                StateChange(state=h["state"], at=datetime.fromisoformat(h["at"])) for h in body["history"]
            ),
            carrier=body.get("carrier"),
            tracking_number=body.get("tracking_number"),
            tracking_url=body.get("tracking_url"),
            can_cancel=bool(body.get("can_cancel", False)),
        )


@dataclass(frozen=True)
class OrderSummary:
    id: str
    number: str | None
    state: str
    created_at: datetime
    placed_at: datetime | None
    total: Money
    item_count: int
    image_url: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> OrderSummary:
        return cls(
            id=body["id"],
            number=body["number"],
            state=body["state"],
            created_at=datetime.fromisoformat(body["created_at"]),
            placed_at=datetime.fromisoformat(body["placed_at"]) if body["placed_at"] else None,
            total=_money(body["total"]),
            item_count=body["item_count"],
            image_url=body.get("image_url"),
        )


@dataclass(frozen=True)
class Placed:
    """Checkout's answer: the status (201 placed, 202 paid and being finalised) and the order."""

    status: int
    order: Order


class Orders:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("orders", base_url, timeout=timeout)

    async def cart(self, shopper: Shopper) -> Cart:
        return Cart.parse(await self.client.request("GET", "/api/v1/cart", headers=identity(shopper)))

    async def add_item(self, shopper: Shopper, body: dict[str, Any], idempotency_key: str | None) -> Cart:
        headers = identity(shopper, idempotency_key)
        return Cart.parse(await self.client.request("POST", "/api/v1/cart/items", json=body, headers=headers))

    async def set_quantity(self, shopper: Shopper, sku: str, quantity: int) -> Cart:
        path = f"/api/v1/cart/items/{_segment(sku)}"
        body = {"quantity": quantity}
        return Cart.parse(await self.client.request("PATCH", path, json=body, headers=identity(shopper)))

    async def remove_item(self, shopper: Shopper, sku: str) -> Cart:
        await self.client.request("DELETE", f"/api/v1/cart/items/{_segment(sku)}", headers=identity(shopper))
        return await self.cart(shopper)

    async def checkout(self, shopper: Shopper, body: dict[str, Any], idempotency_key: str) -> Placed:
        headers = identity(shopper, idempotency_key)
        status, order = await self.client.call("POST", "/api/v1/checkout", json=body, headers=headers)
        return Placed(status=status, order=Order.parse(order))

    async def orders(self, shopper: Shopper, params: Params) -> tuple[list[OrderSummary], str | None]:
        body = await self.client.request(
            "GET", "/api/v1/orders", params=list(params), headers=identity(shopper)
        )
        return [OrderSummary.parse(entry) for entry in body["data"]], body.get("next_cursor")

    async def order(self, shopper: Shopper, order_id: str) -> Order:
        path = f"/api/v1/orders/{_segment(order_id)}"
        return Order.parse(await self.client.request("GET", path, headers=identity(shopper)))


@dataclass(frozen=True)
class Address:
    id: str
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    phone: str | None
    is_default: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Address:
        fields = ("id", "name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
        return cls(**{name: body.get(name) for name in fields}, is_default=body["is_default"])


@dataclass(frozen=True)
class Account:
    email: str
    addresses: tuple[Address, ...]


class Customers:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("customers", base_url, timeout=timeout)

    async def account(self, shopper: Shopper) -> Account:
        """The shopper's e-mail and address book (its first 100 entries), in one go."""
        me, book = await asyncio.gather(
            self.client.request("GET", "/api/v1/me", headers=identity(shopper)),
            self.client.request(
                "GET", "/api/v1/me/addresses", params={"limit": 100}, headers=identity(shopper)
            ),
        )
        return Account(email=me["email"], addresses=tuple(Address.parse(entry) for entry in book["data"]))


@dataclass
class Services:
    catalog: Catalog
    search: Search
    orders: Orders
    customers: Customers

    async def close(self) -> None:
        for client in (self.catalog, self.search, self.orders, self.customers):
            await client.client.close()
