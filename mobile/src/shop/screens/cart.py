"""The cart: lines with quantities (− / + / remove), the totals and tax as orders quotes them, and
Checkout at the bottom."""

from __future__ import annotations

import toga

from shop import theme
from shop.api import MOBILE
from shop.images import thumbnail
from shop.screens.base import Screen, money
from shop.screens.quote import totals


class CartScreen(Screen):
    title = "Your cart"

    def __init__(self, shop):
        super().__init__(shop)
        self.cart: dict = {}
        self.lines = toga.Box(id="lines", style=theme.column())
        self.checkout = toga.Button(
            "Checkout", id="checkout", on_press=self.go_checkout, style=theme.primary()
        )

    async def load(self) -> None:
        cart, _ = await self.gateway.get(f"{MOBILE}/cart", auth=True)
        self.show_cart(cart)

    def show_cart(self, cart: dict) -> None:
        self.cart = cart
        self.state.cart_changed(cart)
        self.shop.refresh_tabs()
        self.box.clear()
        self.lines.clear()
        self.box.add(self.lines)
        if not cart.get("lines"):
            self.lines.add(toga.Label("Your cart is empty.", id="empty", style=theme.muted()))
        for line in cart.get("lines", []):
            sku = line["sku"]
            details = ", ".join(str(v) for v in (line.get("attributes") or {}).values())
            warn = "" if line.get("purchasable", True) else " · no longer available"
            row = toga.Box(id=f"line-{sku}", style=theme.card(margin=(0, 0, 8, 0)))
            about = toga.Box(
                children=[
                    toga.Label(theme.wrap(line["name"], 26), style=theme.text(weight="bold")),
                    toga.Label(theme.wrap(f"{details} · {sku}{warn}", 32), style=theme.muted()),
                ],
                style=theme.column(flex=1),
            )
            row.add(
                toga.Box(
                    children=[thumbnail(self.shop, line.get("image"), f"thumb-{sku}", 56), about],
                    style=theme.row(),
                ),
                toga.Box(
                    children=[
                        toga.Button(
                            "−", id=f"less-{sku}", on_press=self.change, style=theme.secondary(width=44)
                        ),
                        toga.Label(
                            f"{line['quantity']}",
                            id=f"quantity-{sku}",
                            style=theme.text(width=32, text_align="center"),
                        ),
                        toga.Button(
                            "+", id=f"more-{sku}", on_press=self.change, style=theme.secondary(width=44)
                        ),
                        toga.Label(
                            money(line.get("line_total")),
                            style=theme.text(width=84, text_align="right", margin_right=8),
                        ),
                        toga.Button(
                            "Remove",
                            id=f"remove-{sku}",
                            on_press=self.change,
                            style=theme.secondary(width=84),
                        ),
                    ],
                    style=theme.row(),
                ),
            )
            self.lines.add(row)
        if cart.get("lines"):
            self.box.add(totals(cart, pending_shipping=True))
        self.checkout.enabled = bool(cart.get("lines")) and cart.get("purchasable", True)

    def quantity(self, sku: str) -> int:
        return next((line["quantity"] for line in self.cart.get("lines", []) if line["sku"] == sku), 0)

    async def change(self, widget) -> None:
        action, sku = widget.id.split("-", 1)

        async def send() -> None:
            if action == "remove" or (action == "less" and self.quantity(sku) <= 1):
                cart = await self.gateway.write("DELETE", f"{MOBILE}/cart/items/{sku}")
            else:
                quantity = self.quantity(sku) + (1 if action == "more" else -1)
                cart = await self.gateway.write("PATCH", f"{MOBILE}/cart/items/{sku}", {"quantity": quantity})
            if cart is None:  # a 204: read the cart again
                cart, _ = await self.gateway.get(f"{MOBILE}/cart", auth=True)
            self.show_cart(cart)

        await self.attempt(send)

    def actions(self):
        return [self.message, self.checkout]

    async def go_checkout(self, widget) -> None:
        from shop.screens.checkout import CheckoutScreen

        await self.shop.show(CheckoutScreen(self.shop))
