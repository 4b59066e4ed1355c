"""The two services checkout calls synchronously — catalog and payments — over their internal APIs, and
notifications, asked for the messages written to a guest (a GDPR export); their answers parsed into the
few typed facts orders uses (use cases never read a payload)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from mercato.contracts.money import Money
from mercato.platform.clients import RemoteProblem, ServiceClient
from mercato.platform.staff import Staff


@dataclass(frozen=True)
class Market:
    """Where catalog priced an answer: the market's currency and whether its prices include tax."""

    id: str
    currency: str
    prices_include_tax: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Market:
        return cls(id=body["id"], currency=body["currency"], prices_include_tax=body["prices_include_tax"])


@dataclass(frozen=True)
class Variant:
    """What catalog says about a SKU: how to show it on a cart line or an order, its price in the market
    (None: not sold there; a sale applied), how many can be bought now, and what the quote needs (tax
    class, weight; for promotions: the list price before a sale and the sale, the product's categories
    and every one above them, and its kind — `physical` or `gift_card`)."""

    sku: str
    product_id: str
    product_name: str
    attributes: dict[str, str]
    image_url: str | None
    price: Money | None
    available: int
    tax_class: str
    weight_grams: int
    list_price: Money | None = None  # the price before a sale; None: not on sale
    sale: tuple[str, str] | None = None  # (promotion_id, name) of the sale in `price`
    category_ids: tuple[str, ...] = ()
    kind: str = "physical"

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Variant:
        return cls(
            sku=body["sku"],
            product_id=body["product_id"],
            product_name=body["product_name"],
            attributes=body["attributes"],
            image_url=body["image_url"],
            price=Money.model_validate(body["price"]) if body.get("price") else None,
            available=body["available"],
            tax_class=body["tax_class"],
            weight_grams=body["weight_grams"],
            list_price=Money.model_validate(body["list_price"]) if body.get("list_price") else None,
            sale=(sale["promotion_id"], sale["name"]) if (sale := body.get("sale")) else None,
            category_ids=tuple(body.get("category_ids") or ()),
            kind=body.get("kind") or "physical",
        )


@dataclass(frozen=True)
class Priced:
    """Catalog's answer for some SKUs in one market."""

    market: Market
    variants: dict[str, Variant]


@dataclass(frozen=True)
class Payment:
    """An order's payment as payments records it: its status, what was captured and refunded of it,
    and the card it was paid with."""

    status: str
    captured: Money
    refunded: Money
    card_brand: str | None
    card_last4: str | None
    # How it was paid, as orders keeps it (`orders.tenders`): gift cards first, then the card;
    # [{kind, gift_card_id, last4, amount (minor units)}].
    tenders: tuple[dict[str, Any], ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Payment:
        card = body.get("card") or {}
        return cls(
            status=body["status"],
            captured=Money.model_validate(body["captured"]),
            refunded=Money.model_validate(body["refunded"]),
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
            tenders=tuple(
                {
                    "kind": t["kind"],
                    "gift_card_id": t.get("gift_card_id"),
                    "last4": t.get("last4"),
                    "amount": Money.model_validate(t["amount"]).amount,
                }
                for t in body.get("tenders") or ()
            ),
        )


class Catalog:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("catalog", base_url, timeout=timeout)

    async def variants(self, skus: list[str], *, country: str | None = None) -> Priced:
        """The SKUs as sold in `country`'s market (the default market without one). No SKUs (an empty
        cart): the market only. A country in no market: catalog's 422."""
        if not skus:
            return Priced(await self.market(country), {})
        params = [("sku", s) for s in skus] + ([("country", country)] if country else [])
        found = await self.client.request("GET", "/internal/variants", params=params)
        return Priced(Market.parse(found["market"]), {v["sku"]: Variant.parse(v) for v in found["variants"]})

    async def market(self, country: str | None) -> Market:
        markets = await self.client.request("GET", "/internal/markets")
        for market in markets:
            if (country and country.upper() in market["countries"]) or (not country and market["default"]):
                return Market.parse(market)
        raise RemoteProblem(
            422, {"detail": f"No market sells to {country}.", "errors": {"country": "no market"}}
        )

    async def reserve(
        self, *, key: str, lines: dict[str, int], ttl_seconds: int, country: str | None
    ) -> Priced:
        """Hold the lines' stock under `key`; the reserved variants as sold now in `country`'s market."""
        body: dict[str, Any] = {
            "key": key,
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            "ttl_seconds": ttl_seconds,
        }
        if country:
            body["country"] = country
        reserved = await self.client.request("POST", "/internal/reservations", json=body)
        return Priced(
            Market.parse(reserved["market"]), {item["sku"]: Variant.parse(item) for item in reserved["items"]}
        )

    async def commit(self, key: str) -> None:
        await self.client.request("POST", f"/internal/reservations/{key}/commit")

    async def release(self, key: str) -> None:
        await self.client.request("POST", f"/internal/reservations/{key}/release")


class Payments:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("payments", base_url, timeout=timeout)

    async def pay(
        self,
        *,
        order_id: str,
        customer_id: str,
        amount: Money,
        payment_method: str | None,
        gift_cards: list[str] | None = None,
    ) -> Payment:
        """Gift cards first, the card (`payment_method`) for the rest; a 422 when a gift card cannot pay
        (`gift-card-invalid`) or the rest needs a card and there is none — nothing charged either way."""
        body: dict[str, Any] = {
            "order_id": order_id,
            "customer_id": customer_id,
            "amount": amount.model_dump(),
        }
        if payment_method:
            body["payment_method"] = payment_method
        if gift_cards:
            body["gift_cards"] = gift_cards
        return Payment.parse(await self.client.request("POST", "/internal/payments", json=body))

    async def resolve(self, order_id: str) -> Payment:
        return Payment.parse(await self.client.request("POST", f"/internal/payments/{order_id}/resolve"))

    async def void(self, order_id: str) -> None:
        await self.client.request("POST", f"/internal/payments/{order_id}/void")

    async def payment(self, order_id: str) -> Payment:
        return Payment.parse(await self.client.request("GET", f"/internal/payments/{order_id}"))

    async def refund(
        self,
        order_id: str,
        *,
        refund_key: str,
        reason: str,
        amount: int | None = None,
        staff: Staff | None = None,
    ) -> Payment:
        """`staff`: who asked, when it was staff; payments keeps it with the refund and audits it."""
        body: dict[str, Any] = {"refund_key": refund_key, "reason": reason}
        if amount:
            body["amount"] = amount
        if staff:
            body["requested_by"] = {"staff_id": staff.id, "source_ip": staff.source_ip}
        return Payment.parse(
            await self.client.request("POST", f"/internal/payments/{order_id}/refunds", json=body)
        )


class SentMessage(BaseModel):
    """A message notifications wrote to a buyer: what a GDPR export shows of it."""

    id: str
    kind: str
    channel: str
    order_id: str | None
    to_address: str
    subject: str | None
    status: str
    created_at: datetime
    sent_at: datetime | None


class Notifications:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("notifications", base_url, timeout=timeout)

    async def messages_to(self, buyer_id: str) -> list[SentMessage]:
        """Raises `ServiceUnavailable` when notifications can't answer: an export without its messages
        would be incomplete, and a retry later is the honest answer."""
        body = await self.client.request("GET", f"/internal/customers/{buyer_id}/communications")
        return [SentMessage.model_validate(message) for message in body["messages"]]
