"""Orders and customers, as the shopper's screens use them: the cart, checkout, the order history, the
account and address book — each call carrying the identity the gateway verified."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mercato.contracts.money import Money
from mercato.platform.auth import CUSTOMER_HEADER, ISSUED_AT_HEADER, Shopper
from mercato.platform.clients import ServiceClient
from mercato.services.mobile_api.clients.common import Params, money, segment


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
                    unit_price=money(line["unit_price"]) if line["unit_price"] else None,
                    line_total=money(line["line_total"]) if line["line_total"] else None,
                    available=line["available"],
                    purchasable=line["purchasable"],
                )
                for line in body["lines"]
            ),
            subtotal=money(body["totals"]["subtotal"]),
            shipping=money(body["totals"]["shipping"]),
            total=money(body["totals"]["total"]),
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
            subtotal=money(body["subtotal"]),
            shipping=money(body["shipping"]),
            total=money(body["total"]),
            lines=tuple(
                OrderLine(
                    sku=line["sku"],
                    name=line["name"],
                    attributes=line["attributes"],
                    image_url=line["image_url"],
                    quantity=line["quantity"],
                    line_total=money(line["line_total"]),
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
            total=money(body["total"]),
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
        path = f"/api/v1/cart/items/{segment(sku)}"
        body = {"quantity": quantity}
        return Cart.parse(await self.client.request("PATCH", path, json=body, headers=identity(shopper)))

    async def remove_item(self, shopper: Shopper, sku: str) -> Cart:
        await self.client.request("DELETE", f"/api/v1/cart/items/{segment(sku)}", headers=identity(shopper))
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
        path = f"/api/v1/orders/{segment(order_id)}"
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
