"""The two services checkout calls synchronously — catalog and payments — over their internal APIs."""

from __future__ import annotations

from typing import Any

from mercato.contracts.money import Money
from mercato.platform.clients import ServiceClient
from mercato.platform.staff import Staff


class Catalog:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("catalog", base_url, timeout=timeout)

    async def variants(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        if not skus:
            return {}
        found = await self.client.request("GET", "/internal/variants", params=[("sku", s) for s in skus])
        return {v["sku"]: v for v in found}

    async def reserve(self, *, key: str, lines: dict[str, int], ttl_seconds: int) -> dict[str, Any]:
        body = {
            "key": key,
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            "ttl_seconds": ttl_seconds,
        }
        return await self.client.request("POST", "/internal/reservations", json=body)

    async def commit(self, key: str) -> dict[str, Any]:
        return await self.client.request("POST", f"/internal/reservations/{key}/commit")

    async def release(self, key: str) -> dict[str, Any]:
        return await self.client.request("POST", f"/internal/reservations/{key}/release")


class Payments:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("payments", base_url, timeout=timeout)

    async def pay(
        self, *, order_id: str, customer_id: str, amount: Money, payment_method: str
    ) -> dict[str, Any]:
        body = {
            "order_id": order_id,
            "customer_id": customer_id,
            "amount": amount.model_dump(),
            "payment_method": payment_method,
        }
        return await self.client.request("POST", "/internal/payments", json=body)

    async def resolve(self, order_id: str) -> dict[str, Any]:
        return await self.client.request("POST", f"/internal/payments/{order_id}/resolve")

    async def void(self, order_id: str) -> dict[str, Any] | None:
        return await self.client.request("POST", f"/internal/payments/{order_id}/void")

    async def payment(self, order_id: str) -> dict[str, Any]:
        return await self.client.request("GET", f"/internal/payments/{order_id}")

    async def refund(
        self,
        order_id: str,
        *,
        refund_key: str,
        reason: str,
        amount: int | None = None,
        staff: Staff | None = None,
    ) -> dict[str, Any]:
        """`staff`: who asked, when it was staff; payments keeps it with the refund and audits it."""
        body: dict[str, Any] = {"refund_key": refund_key, "reason": reason}
        if amount:
            body["amount"] = amount
        if staff:
            body["requested_by"] = {"staff_id": staff.id, "source_ip": staff.source_ip}
        return await self.client.request("POST", f"/internal/payments/{order_id}/refunds", json=body)
