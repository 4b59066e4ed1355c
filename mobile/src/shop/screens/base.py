"""What every screen has: a title, a column of content, a message line, and bottom actions."""

from __future__ import annotations

import toga

from shop import theme
from shop.errors import ApiError, Offline, SignedOut
from shop.images import thumbnail


class Screen:
    title = "Mercato"

    def __init__(self, shop):
        self.shop = shop
        self.gateway = shop.gateway
        self.state = shop.state
        self.box = toga.Box(style=theme.column(margin=(8, 12)))
        self.message = toga.Label("", id="message", style=theme.text(weight="bold", color=theme.DANGER))

    async def load(self) -> None:
        """Fetch and fill the screen (raise Offline when nothing is cached, SignedOut to ask for sign-in)."""

    def actions(self) -> list[toga.Widget]:
        """The primary actions, shown at the bottom of the window."""
        return [self.message]

    def offline_placeholder(self) -> None:
        self.box.clear()
        self.box.add(toga.Label("This page hasn't been saved for offline use yet.", style=theme.muted()))

    def say(self, text: str, kind: str = "error") -> None:
        self.message.text = theme.wrap(text, 30)  # bold
        self.message.style.color = theme.DANGER if kind == "error" else theme.ACCENT

    async def attempt(self, action) -> bool:
        """Run a user action; show what went wrong in plain words instead of failing."""
        self.say("")
        try:
            await action()
        except ApiError as error:
            self.say(error.message)
            return False
        except Offline:
            self.say("You're offline. Try again when you're back online — nothing is sent twice.")
            return False
        except SignedOut:
            from shop.screens.account import AccountScreen

            await self.shop.show(AccountScreen(self.shop))
            return False
        return True


def money(value: dict | None) -> str:
    if not value:
        return ""
    amount, currency = value["amount"], value.get("currency", "EUR")
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


def product_card(shop, item: dict) -> toga.Widget:
    """A product in a list: its thumbnail on the left (loaded after the rows are shown), on the right its
    name as a large button opening the product, then brand, price and availability."""
    from shop.screens.product import ProductScreen

    price = ("from " if item.get("price_varies") else "") + money(item.get("price"))
    state = "" if item.get("available", True) else " · Sold out"

    async def open_product(widget) -> None:
        await shop.show(ProductScreen(shop, item["slug"] or item["id"]))

    details = toga.Box(
        children=[
            toga.Button(
                theme.shorten(item["name"], 22),
                id=f"product-{item['id']}",
                on_press=open_product,
                style=theme.secondary(margin=0, font_size=13),
            ),
            toga.Label(
                theme.shorten(f"{item.get('brand') or ''} · {price}{state}", 34),
                style=theme.muted(margin=(2, 8, 4, 8)),
            ),
        ],
        style=theme.column(flex=1),
    )
    return toga.Box(
        children=[thumbnail(shop, item.get("image"), f"thumb-{item['id']}", 64), details],
        style=theme.card(direction="row", align_items="center", margin=(0, 0, 8, 0)),
    )


def heading(text: str) -> toga.Label:
    return toga.Label(text, style=theme.text(17, weight="bold", margin=(12, 0, 6, 0)))
