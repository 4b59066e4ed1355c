"""The one service notifications calls: orders, for the invoice a confirmation e-mail attaches, fetched
over the private network when the e-mail is sent (docs/invoices.md)."""

from __future__ import annotations

from mercato.platform.clients import ServiceClient


class Orders:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("orders", base_url, timeout=timeout)

    async def invoice(self, order_id: str) -> bytes:
        """The order's invoice as PDF (orders makes it on first request, then keeps it)."""
        return await self.client.fetch(f"/internal/orders/{order_id}/invoice")
