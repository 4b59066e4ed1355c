"""The two services checkout calls synchronously — catalog and payments — over their internal APIs, and
their answers parsed into the few typed facts orders uses (use cases never read a payload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.contracts.money import Money
from mercato.platform.clients import ServiceClient
from mercato.platform.staff import Staff


@dataclass(frozen=True)
class Variant:
    """What catalog says about a SKU: how to show it on a cart line or an order, its price and how many
    can be bought now."""

    sku: str
    product_id: str
    product_name: str
    attributes: dict[str, str]
    image_url: str | None
    price: Money
    available: int

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Variant:
        return cls(
            sku=body["sku"],
            product_id=body["product_id"],
            product_name=body["product_name"],
            attributes=body["attributes"],
            image_url=body["image_url"],
            price=Money.model_validate(body["price"]),
            available=body["available"],
        )


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

    async def variants(self, skus: list[str]) -> dict[str, Variant]:
        if not skus:
            return {}
        found = await self.client.request("GET", "/internal/variants", params=[("sku", s) for s in skus])
        return {v["sku"]: Variant.parse(v) for v in found}

    async def reserve(self, *, key: str, lines: dict[str, int], ttl_seconds: int) -> dict[str, Variant]:
        """Hold the lines' stock under `key`; the reserved variants as sold now, by SKU."""
        body = {
            "key": key,
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            "ttl_seconds": ttl_seconds,
        }
        reserved = await self.client.request("POST", "/internal/reservations", json=body)
        return {item["sku"]: Variant.parse(item) for item in reserved["items"]}

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
