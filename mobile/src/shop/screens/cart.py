"""The cart: lines with quantities (− / + / remove), promotion codes (entered, each applied or rejected
with orders' reason, removable), the totals with each discount and tax as orders quotes them, and Checkout
at the bottom."""

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
        self.code = toga.TextInput(
            id="code", placeholder="Promotion code", on_confirm=self.apply_code, style=theme.text(flex=1)
        )
        self.apply = toga.Button(
            "Apply", id="apply-code", on_press=self.apply_code, style=theme.secondary(width=84)
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
            self.box.add(self.codes(cart.get("codes") or []))
            self.box.add(totals(cart, pending_shipping=True))
        self.checkout.enabled = bool(cart.get("lines")) and cart.get("purchasable", True)

    def codes(self, codes: list[dict]) -> toga.Box:
        """The code field, then each code entered: what it takes off, or why it does not apply."""
        box = toga.Box(id="codes", style=theme.column(margin=(8, 0, 0, 0)))
        box.add(toga.Box(children=[self.code, self.apply], style=theme.row()))
        for entry in codes:
            code = entry["code"]
            if entry["applied"]:
                text = f"{code} · {entry.get('promotion') or ''} · −{money(entry.get('discount'))}"
                style = theme.text(theme.SMALL, theme.ACCENT, flex=1)
            else:
                text = f"{code}: {entry.get('message') or 'does not apply'}"
                style = theme.text(theme.SMALL, theme.DANGER, flex=1)
            box.add(
                toga.Box(
                    id=f"code-{code}",
                    children=[
                        toga.Label(theme.wrap(text, 30), id=f"code-text-{code}", style=style),
                        toga.Button(
                            "Remove",
                            id=f"drop-code-{code}",
                            on_press=self.remove_code,
                            style=theme.secondary(width=84),
                        ),
                    ],
                    style=theme.row(margin=(4, 0)),
                )
            )
        return box

    async def apply_code(self, widget) -> None:
        code = (self.code.value or "").strip()
        if not code:
            self.say("Enter a promotion code.")
            return

        async def send() -> None:
            cart = await self.gateway.write("POST", f"{MOBILE}/cart/codes", {"code": code})
            self.code.value = ""
            self.show_cart(cart)
            entry = next((c for c in cart.get("codes", []) if c["code"].upper() == code.upper()), None)
            if entry and not entry["applied"]:
                self.say(entry.get("message") or f"{entry['code']} does not apply to this cart.")
            elif entry:
                self.say(f"{entry['code']} applied: −{money(entry.get('discount'))}", "ok")

        await self.attempt(send)

    async def remove_code(self, widget) -> None:
        code = widget.id.removeprefix("drop-code-")

        async def send() -> None:
            self.show_cart(await self.gateway.write("DELETE", f"{MOBILE}/cart/codes/{code}"))

        await self.attempt(send)

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
