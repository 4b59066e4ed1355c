"""The two services checkout calls synchronously — catalog and payments — over their internal APIs, and
notifications, asked for the messages written to a guest (a GDPR export); their answers parsed into the
few typed facts orders uses (use cases never read a payload)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from mercato.contracts.money import Money
from mercato.platform.clients import ServiceClient
from mercato.platform.staff import Staff


@dataclass(frozen=True)
class Variant:
    """What catalog says about a SKU in a market: how to show it on a cart line or an order, its price in
    the market's currency, how many can be bought now, and what tax and shipping need (tax class,
    weight)."""

    sku: str
    product_id: str
    product_name: str
    attributes: dict[str, str]
    image_url: str | None
    price: Money
    available: int
    tax_class: str
    weight_grams: int

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Variant | None:
        """None when the market does not sell it (no price in its currency)."""
        if body["price"] is None:
            return None
        return cls(
            sku=body["sku"],
            product_id=body["product_id"],
            product_name=body["product_name"],
            attributes=body["attributes"],
            image_url=body["image_url"],
            price=Money.model_validate(body["price"]),
            available=body["available"],
            tax_class=body["tax_class"],
            weight_grams=body["weight_grams"],
        )


def _sold(items: list[dict[str, Any]]) -> dict[str, Variant]:
    """By SKU, the variants the market sells (those it does not are left out, as unknown ones are)."""
    return {variant.sku: variant for item in items if (variant := Variant.parse(item)) is not None}


@dataclass(frozen=True)
class Payment:
    """An order's payment as payments records it: its status, what was captured and refunded of it,
    and the card it was paid with."""

    status: str
    captured: Money
    refunded: Money
    card_brand: str | None
    card_last4: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Payment:
        card = body.get("card") or {}
        return cls(
            status=body["status"],
            captured=Money.model_validate(body["captured"]),
            refunded=Money.model_validate(body["refunded"]),
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
        )


class Catalog:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("catalog", base_url, timeout=timeout)

    async def variants(self, skus: list[str], *, country: str | None = None) -> dict[str, Variant]:
        """The SKUs as the market of `country` (None: the default market) sells them."""
        if not skus:
            return {}
        params = [("sku", s) for s in skus] + ([("country", country)] if country else [])
        found = await self.client.request("GET", "/internal/variants", params=params)
        return _sold(found["variants"])

    async def reserve(
        self, *, key: str, lines: dict[str, int], ttl_seconds: int, country: str | None = None
    ) -> dict[str, Variant]:
        """Hold the lines' stock under `key`; the reserved variants as the market of `country` sells
        them now, by SKU (a line it does not sell is refused: 409 `not-sold-in-market`)."""
        body: dict[str, Any] = {
            "key": key,
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            "ttl_seconds": ttl_seconds,
        }
        if country:
            body["country"] = country
        reserved = await self.client.request("POST", "/internal/reservations", json=body)
        return _sold(reserved["items"])

    async def commit(self, key: str) -> None:
        await self.client.request("POST", f"/internal/reservations/{key}/commit")

    async def release(self, key: str) -> None:
        await self.client.request("POST", f"/internal/reservations/{key}/release")


class Payments:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("payments", base_url, timeout=timeout)

    async def pay(self, *, order_id: str, customer_id: str, amount: Money, payment_method: str) -> Payment:
        body = {
            "order_id": order_id,
            "customer_id": customer_id,
            "amount": amount.model_dump(),
            "payment_method": payment_method,
        }
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
