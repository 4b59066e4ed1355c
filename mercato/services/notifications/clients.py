"""The services notifications calls, over the private network when an e-mail is sent: orders, for the
invoice a confirmation attaches (docs/invoices.md); payments, for the code of a gift card an e-mail
sends (docs/gift-cards.md)."""

from __future__ import annotations

from mercato.platform.clients import ServiceClient


class Orders:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("orders", base_url, timeout=timeout)

    async def invoice(self, order_id: str) -> bytes:
        """The order's invoice as PDF (orders makes it on first request, then keeps it)."""
        return await self.client.fetch(f"/internal/orders/{order_id}/invoice")


class Payments:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("payments", base_url, timeout=timeout)

    async def gift_card_code(self, gift_card_id: str) -> str:
        """`XXXX-XXXX-XXXX-XXXX`."""
        body = await self.client.request("GET", f"/internal/gift-cards/{gift_card_id}/code")
        return str(body["code"])
