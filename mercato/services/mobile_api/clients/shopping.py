"""Orders, as the shopper's screens use it: the cart and its quote, the checkout steps (address, shipping
method, payment), the order history — each call carrying the identity the gateway verified."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mercato.contracts.money import Money
from mercato.platform.auth import CUSTOMER_HEADER, ISSUED_AT_HEADER, Shopper
from mercato.platform.clients import ServiceClient
from mercato.services.mobile_api.clients.browsing import Market
from mercato.services.mobile_api.clients.common import Params, money, segment
from mercato.services.mobile_api.clients.promotions import CodeState, Discount, Tender
from mercato.services.mobile_api.clients.quotes import (
    ShippingMethod,
    TaxLine,
    Totals,
    optional_money,
)

CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header's name, not a secret


def identity(shopper: Shopper, idempotency_key: str | None = None) -> dict[str, str]:
    """What the gateway told us about the shopper, passed on to the service as the gateway passed it."""
    headers = {CUSTOMER_HEADER: shopper.id}
    if shopper.issued_at is not None:
        headers[ISSUED_AT_HEADER] = str(shopper.issued_at)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


@dataclass(frozen=True)
class Buyer:
    """Whose cart: the signed-in shopper's, a guest's (its cart token, from POST /api/v1/carts), or both
    (a shopper who just signed in: orders merges the guest's cart into the account's)."""

    shopper: Shopper | None
    cart_token: str | None

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = identity(self.shopper) if self.shopper else {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if self.cart_token is not None:
            headers[CART_TOKEN_HEADER] = self.cart_token
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
    tax: Money | None
    tax_rate: str | None
    available: int
    purchasable: bool
    list_unit_price: Money | None = None  # the price before a sale (null: not on sale)
    discount: Money | None = None  # the cart promotions' share of this line

    @classmethod
    def parse(cls, line: dict[str, Any]) -> CartLine:
        rate = line.get("tax_rate")
        return cls(
            sku=line["sku"],
            product_id=line["product_id"],
            name=line["name"],
            attributes=line["attributes"],
            image_url=line["image_url"],
            quantity=line["quantity"],
            unit_price=optional_money(line["unit_price"]),
            line_total=optional_money(line["line_total"]),
            tax=optional_money(line.get("tax")),
            tax_rate=None if rate is None else str(rate),
            available=line["available"],
            purchasable=line["purchasable"],
            list_unit_price=optional_money(line.get("list_unit_price")),
            discount=optional_money(line.get("discount")),
        )


@dataclass(frozen=True)
class Cart:
    """Orders' cart: its lines as priced in its market, and the quote (totals, tax lines, shipping)."""

    lines: tuple[CartLine, ...]
    market: Market
    country: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    email: str | None
    shipping_method: ShippingMethod | None
    totals: Totals
    tax_lines: tuple[TaxLine, ...]
    item_count: int
    purchasable: bool
    codes: tuple[CodeState, ...] = ()
    discounts: tuple[Discount, ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Cart:
        return cls(
            lines=tuple(CartLine.parse(line) for line in body["lines"]),
            market=Market.parse(body["market"]),
            country=body.get("country"),
            shipping_address=body.get("shipping_address"),
            billing_address=body.get("billing_address"),
            email=body.get("email"),
            shipping_method=ShippingMethod.parse_optional(body.get("shipping_method")),
            totals=Totals.parse(body["totals"]),
            tax_lines=TaxLine.parse_all(body.get("tax_lines") or []),
            item_count=body["item_count"],
            purchasable=body["purchasable"],
            codes=CodeState.parse_all(body.get("codes")),
            discounts=Discount.parse_all(body.get("discounts")),
        )


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money
    line_total: Money
    tax: Money | None
    tax_rate: str | None

    @classmethod
    def parse(cls, line: dict[str, Any]) -> OrderLine:
        rate = line.get("tax_rate")
        return cls(
            sku=line["sku"],
            name=line["name"],
            attributes=line["attributes"],
            image_url=line["image_url"],
            quantity=line["quantity"],
            unit_price=money(line["unit_price"]),
            line_total=money(line["line_total"]),
            tax=optional_money(line.get("tax")),
            tax_rate=None if rate is None else str(rate),
        )


@dataclass(frozen=True)
class StateChange:
    state: str
    at: datetime


@dataclass(frozen=True)
class CreditNote:
    number: str
    url: str
    amount: Money


@dataclass(frozen=True)
class Order:
    """An order as orders stored it at checkout: every figure is its snapshot, never re-derived."""

    id: str
    number: str | None
    state: str
    created_at: datetime
    placed_at: datetime | None
    market: Market | None
    totals: Totals
    tax_lines: tuple[TaxLine, ...]
    lines: tuple[OrderLine, ...]
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any] | None
    shipping_method: ShippingMethod | None
    email: str | None
    history: tuple[StateChange, ...]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    can_cancel: bool
    invoice_url: str | None
    credit_notes: tuple[CreditNote, ...]
    order_url: str | None  # a guest's signed link to the order
    promotions: tuple[Discount, ...] = ()
    tenders: tuple[Tender, ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Order:
        return cls(
            id=body["id"],
            number=body["number"],
            state=body["state"],
            created_at=datetime.fromisoformat(body["created_at"]),
            placed_at=datetime.fromisoformat(body["placed_at"]) if body["placed_at"] else None,
            market=Market.parse(body["market"]) if body.get("market") else None,
            totals=Totals.parse(body["totals"]),
            tax_lines=TaxLine.parse_all(body.get("tax_lines") or []),
            lines=tuple(OrderLine.parse(line) for line in body["lines"]),
            shipping_address=body["shipping_address"],
            billing_address=body.get("billing_address"),
            shipping_method=ShippingMethod.parse_optional(body.get("shipping_method")),
            email=body.get("email"),
            history=tuple(
                StateChange(state=h["state"], at=datetime.fromisoformat(h["at"])) for h in body["history"]
            ),
            carrier=body.get("carrier"),
            tracking_number=body.get("tracking_number"),
            tracking_url=body.get("tracking_url"),
            can_cancel=bool(body.get("can_cancel", False)),
            invoice_url=body.get("invoice_url"),
            credit_notes=tuple(
                CreditNote(number=note["number"], url=note["url"], amount=money(note["amount"]))
                for note in body.get("credit_notes") or ()
            ),
            order_url=body.get("order_url"),
            promotions=Discount.parse_all(body.get("promotions")),
            tenders=Tender.parse_all(body.get("tenders")),
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


@dataclass(frozen=True)
class Delivery:
    """The cart after a checkout step, with the shipping methods that apply to its address and contents
    (none before it has an address)."""

    cart: Cart
    methods: tuple[ShippingMethod, ...]


class Orders:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("orders", base_url, timeout=timeout)

    async def cart(self, buyer: Buyer) -> Cart:
        return Cart.parse(await self.client.request("GET", "/api/v1/cart", headers=buyer.headers()))

    async def add_item(self, buyer: Buyer, body: dict[str, Any], idempotency_key: str | None) -> Cart:
        headers = buyer.headers(idempotency_key)
        return Cart.parse(await self.client.request("POST", "/api/v1/cart/items", json=body, headers=headers))

    async def set_quantity(self, buyer: Buyer, sku: str, quantity: int) -> Cart:
        path = f"/api/v1/cart/items/{segment(sku)}"
        body = {"quantity": quantity}
        return Cart.parse(await self.client.request("PATCH", path, json=body, headers=buyer.headers()))

    async def remove_item(self, buyer: Buyer, sku: str) -> Cart:
        await self.client.request("DELETE", f"/api/v1/cart/items/{segment(sku)}", headers=buyer.headers())
        return await self.cart(buyer)

    async def add_code(self, buyer: Buyer, code: str) -> Cart:
        body = {"code": code}
        return Cart.parse(
            await self.client.request("POST", "/api/v1/cart/codes", json=body, headers=buyer.headers())
        )

    async def remove_code(self, buyer: Buyer, code: str) -> Cart:
        path = f"/api/v1/cart/codes/{segment(code)}"
        return Cart.parse(await self.client.request("DELETE", path, headers=buyer.headers()))

    async def shipping_methods(self, buyer: Buyer) -> tuple[ShippingMethod, ...]:
        body = await self.client.request("GET", "/api/v1/cart/shipping-methods", headers=buyer.headers())
        return tuple(ShippingMethod.parse(method) for method in body["data"])

    async def delivery(self, buyer: Buyer) -> Delivery:
        """The cart and, once it has an address, the methods that apply: side by side."""
        cart = await self.cart(buyer)
        if cart.shipping_address is None or not cart.lines:
            return Delivery(cart=cart, methods=())
        return Delivery(cart=cart, methods=await self.shipping_methods(buyer))

    async def set_address(self, buyer: Buyer, body: dict[str, Any]) -> Delivery:
        """The cart delivered there (re-quoted for that country's market), then the methods that apply."""
        cart = Cart.parse(
            await self.client.request("PUT", "/api/v1/cart/address", json=body, headers=buyer.headers())
        )
        return Delivery(cart=cart, methods=await self.shipping_methods(buyer) if cart.lines else ())

    async def set_shipping_method(self, buyer: Buyer, method_id: str) -> Delivery:
        """The method chosen (orders refuses one that does not apply), and the methods offered beside it."""
        chosen, methods = await asyncio.gather(
            self.client.request(
                "PUT", "/api/v1/cart/shipping-method", json={"id": method_id}, headers=buyer.headers()
            ),
            self.shipping_methods(buyer),
        )
        return Delivery(cart=Cart.parse(chosen), methods=methods)

    async def checkout(self, buyer: Buyer, body: dict[str, Any], idempotency_key: str) -> Placed:
        headers = buyer.headers(idempotency_key)
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
