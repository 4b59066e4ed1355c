"""Orders: the confirmation after checkout (its totals and tax as orders stored them), the history, and
an order with its totals, shipping method, addresses, timeline, tracking and invoice."""

from __future__ import annotations

import toga

from shop import theme
from shop.api import API, MOBILE
from shop.images import thumbnail
from shop.screens.addresses import plain
from shop.screens.base import Screen, heading, money
from shop.screens.quote import method_text, totals

STATUS = {
    "pending_payment": "Payment being confirmed",
    "placed": "Placed",
    "paid": "Paid",
    "packed": "Packed",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "return_requested": "Return requested",
    "returned": "Returned",
}


def status(value: str) -> str:
    return STATUS.get(value, value.replace("_", " ").capitalize())


def when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


class ConfirmationScreen(Screen):
    title = "Thank you!"

    def __init__(self, shop, order: dict):
        super().__init__(shop)
        self.order = order
        self.view = toga.Button("View order", id="view-order", on_press=self.open, style=theme.primary())
        self.more = toga.Button(
            "Continue shopping", id="continue", on_press=self.home, style=theme.secondary()
        )

    async def load(self) -> None:
        order = self.order
        self.box.clear()
        self.box.add(
            toga.Label("Your order is placed.", id="confirmation", style=theme.title()),
            toga.Label(
                f"Order {order.get('number') or order['id']}",
                id="order-number",
                style=theme.text(weight="bold"),
            ),
            toga.Label(status(order.get("status", "placed")), style=theme.text()),
            totals(order),
            toga.Label(
                theme.wrap(
                    f"We've sent the confirmation to {order['email']}."
                    if order.get("email")
                    else "We'll send a confirmation by e-mail, and a notification if you turned them on.",
                    40,
                ),
                id="confirmation-note",
                style=theme.muted(),
            ),
        )

    def actions(self):
        return [self.message, self.view, self.more]

    async def open(self, widget) -> None:
        if not self.state.signed_in and self.order.get("order_url"):  # a guest: the order's signed link
            await self.shop.device.open_url(self.order["order_url"])
            return
        await self.shop.show(OrderScreen(self.shop, self.order["id"]))

    async def home(self, widget) -> None:
        await self.shop.tab(self.shop.tab_buttons["home"])


class OrdersScreen(Screen):
    title = "Your orders"

    def __init__(self, shop):
        super().__init__(shop)
        self.items: list[dict] = []
        self.next_cursor: str | None = None
        self.list = toga.Box(id="orders", style=theme.column())
        self.loading = False

    async def load(self) -> None:
        page, fresh = await self.gateway.get(f"{MOBILE}/orders", auth=True)
        self.items = list(page.get("items", []))
        self.next_cursor = page.get("next_cursor") if fresh else None
        self.box.clear()
        self.box.add(self.list)
        self.list.clear()
        if not self.items:
            self.list.add(toga.Label("No orders yet.", id="no-orders", style=theme.muted()))
        self._add(self.items)

    def _add(self, items: list[dict]) -> None:
        for order in items:
            title = f"{order.get('number') or order['id']} · {status(order['status'])}"
            count, total = order.get("item_count", ""), money(order.get("total"))
            items = "1 item" if count == 1 else f"{count} items"
            details = f"{when(order.get('placed_at'))}\n{items} · {total}"  # two short lines: 390 px
            about = toga.Box(
                children=[
                    toga.Button(
                        title, id=f"order-{order['id']}", on_press=self.open, style=theme.secondary(margin=0)
                    ),
                    toga.Label(details, style=theme.muted(margin=(2, 8, 4, 8))),
                ],
                style=theme.column(flex=1),
            )
            thumb = thumbnail(self.shop, order.get("image"), f"thumb-order-{order['id']}", 56)
            self.list.add(
                toga.Box(
                    children=[thumb, about],
                    style=theme.card(direction="row", align_items="center", margin=(0, 0, 8, 0)),
                )
            )

    async def load_more(self) -> None:
        if self.loading or not self.next_cursor:
            return
        self.loading = True
        try:
            page, _ = await self.gateway.get(
                f"{MOBILE}/orders", {"cursor": self.next_cursor}, auth=True, cache=False
            )
            self.items.extend(page.get("items", []))
            self.next_cursor = page.get("next_cursor")
            self._add(page.get("items", []))
        finally:
            self.loading = False

    async def open(self, widget) -> None:
        await self.shop.show(OrderScreen(self.shop, widget.id.removeprefix("order-")))


class OrderScreen(Screen):
    title = "Order"

    def __init__(self, shop, order_id: str):
        super().__init__(shop)
        self.order_id = order_id
        self.order: dict = {}
        self.confirm_cancel = False
        self.cancel = toga.Button(
            "Cancel this order", id="cancel-order", on_press=self.cancel_order, style=theme.secondary()
        )

    def actions(self):
        return [self.message, self.cancel] if self.order.get("can_cancel") else [self.message]

    async def cancel_order(self, widget) -> None:
        if not self.confirm_cancel:
            self.confirm_cancel = True
            self.cancel.text = "Tap again to cancel; you'll be refunded"
            return
        if await self.attempt(lambda: self.gateway.write("POST", f"{API}/orders/{self.order_id}/cancel")):
            self.confirm_cancel = False
            await self.shop.reload()
            self.say("Cancelled. The refund is on its way.", "info")

    async def load(self) -> None:
        order, _ = await self.gateway.get(f"{MOBILE}/orders/{self.order_id}", auth=True)
        self.order = order
        self.title = f"Order {order.get('number') or order['id']}"
        self.box.clear()
        self.box.add(
            toga.Label(status(order["status"]), id="order-status", style=theme.title()),
            toga.Label(f"Placed {when(order.get('placed_at'))}", style=theme.text()),
        )
        tracking = order.get("tracking")
        if tracking:
            self.box.add(
                heading("Tracking"),
                toga.Label(
                    f"{tracking.get('carrier', '')} {tracking.get('number', '')}".strip(),
                    id="tracking",
                    style=theme.text(),
                ),
            )
            if tracking.get("url"):
                self.box.add(toga.Label(theme.wrap(tracking["url"], 40), style=theme.muted()))
        self.box.add(heading("What happened"))
        timeline = toga.Box(id="timeline", style=theme.column())
        for step in order.get("timeline", []):
            timeline.add(
                toga.Label(f"● {status(step['status'])}\n   {when(step.get('at'))}", style=theme.text())
            )
        self.box.add(timeline, heading("Items"))
        for line in order.get("lines", []):
            details = ", ".join(str(v) for v in (line.get("attributes") or {}).values())
            self.box.add(
                toga.Label(
                    theme.wrap(
                        f"{line['quantity']} × {line['name']} ({details}) · {money(line.get('line_total'))}",
                        34,
                    ),
                    id=f"order-line-{line['sku']}",
                    style=theme.text(),
                )
            )
        self.box.add(totals(order))
        method = order.get("shipping_method")
        if method:
            self.box.add(
                heading("Delivery"),
                toga.Label(
                    theme.wrap(method_text(method), 38), id="order-shipping-method", style=theme.text()
                ),
            )
        shipping, billing = order.get("shipping_address"), order.get("billing_address")
        for title, address, widget_id in (
            ("Delivery address", shipping, "order-shipping-address"),
            ("Billing address", billing, "order-billing-address"),
        ):
            if not address:
                continue
            text = ", ".join(str(v) for v in plain(address).values())
            if widget_id == "order-billing-address" and plain(address) == plain(shipping):
                text = "The same as the delivery address"
            self.box.add(heading(title), toga.Label(theme.wrap(text, 38), id=widget_id, style=theme.muted()))
        documents = [("Invoice", order["invoice_url"], "invoice")] if order.get("invoice_url") else []
        documents += [
            (f"Credit note {note['number']} · {money(note['amount'])}", note["url"], f"credit-note-{i}")
            for i, note in enumerate(order.get("credit_notes") or [])
        ]
        if documents:
            self.box.add(heading("Documents"))
        for text, url, widget_id in documents:
            self.box.add(
                toga.Button(
                    theme.shorten(f"{text} (PDF)", 38),
                    id=widget_id,
                    on_press=self.opener(url, f"{order.get('number') or order['id']}-{widget_id}.pdf"),
                    style=theme.secondary(),
                )
            )

    def opener(self, url: str, name: str):
        """Open a document: one on the gateway is fetched with the shopper's token and handed to the
        phone's viewer; one elsewhere (a signed link) opens in the system browser."""

        async def open_document(widget) -> None:
            async def fetch_and_show() -> None:
                if self.gateway.on_gateway(url):
                    path = await self.gateway.download(url, name)
                    await self.shop.device.open_document(path)
                else:
                    await self.shop.device.open_url(url)

            if await self.attempt(fetch_and_show):
                self.say("Opened.", "info")

        return open_document
