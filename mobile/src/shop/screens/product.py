"""A product: gallery, price, availability, and the colour/size picker. What is added is exactly the
variant the picker shows; a combination that does not exist or is sold out cannot be picked."""

from __future__ import annotations

import httpx
import toga

from shop import theme
from shop.api import MOBILE
from shop.screens.base import Screen, money

ORDER = ("colour", "size")


class ProductScreen(Screen):
    def __init__(self, shop, id_or_slug: str):
        super().__init__(shop)
        self.id_or_slug = id_or_slug
        self.product: dict = {}
        self.chosen: dict[str, str] = {}
        self.image_index = 0
        self.images: list[str] = []
        self.image = toga.ImageView(id="image", style=theme.Pack(height=240, margin_bottom=6))
        self.image_caption = toga.Label("", id="image-caption", style=theme.muted())
        self.name = toga.Label("", id="name", style=theme.title())
        self.brand = toga.Label("", id="brand", style=theme.muted())
        self.price = toga.Label("", id="price", style=theme.text(20, weight="bold", margin=(6, 0)))
        self.availability = toga.Label("", id="availability", style=theme.text())
        self.description = toga.MultilineTextInput(
            id="description", readonly=True, style=theme.text(height=110, width=330)
        )
        self.pickers = toga.Box(id="pickers", style=theme.column())
        self.sku = toga.Label("", id="sku", style=theme.muted())
        self.quantity = toga.NumberInput(id="quantity", min=1, max=10, value=1, style=theme.text(width=120))
        self.add = toga.Button(
            "Add to cart", id="add-to-cart", on_press=self.add_to_cart, style=theme.primary()
        )
        self.gallery_buttons = toga.Box(
            children=[
                toga.Button(
                    "‹ Previous",
                    id="image-prev",
                    on_press=self.step_image,
                    style=theme.secondary(flex=1),
                ),
                toga.Button(
                    "Next ›", id="image-next", on_press=self.step_image, style=theme.secondary(flex=1)
                ),
            ],
            style=theme.row(),
        )

    async def load(self) -> None:
        self.product, _ = await self.gateway.get(f"{MOBILE}/products/{self.id_or_slug}")
        product = self.product
        self.title = product["name"]
        self.name.text, self.brand.text = theme.wrap(product["name"], 22), product.get("brand") or ""
        self.description.value = product.get("description") or ""
        self.images = [self.gateway.image_url(url) for url in product.get("images", []) if url]
        self.box.clear()
        self.box.add(self.image, self.image_caption)
        if len(self.images) > 1:
            self.box.add(self.gallery_buttons)
        self.box.add(
            self.brand, self.name, self.price, self.availability, self.pickers, self.sku, self.description
        )
        # One-value options are chosen already (a one-size product, a single colour).
        for name in self.option_names():
            values = product["options"][name]
            if len(values) == 1:
                self.chosen[name] = values[0]
        await self.show_image(0)
        self.render()

    def option_names(self) -> list[str]:
        names = list(self.product.get("options") or {})
        return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))

    # --- the picker ----------------------------------------------------------------------------------
    def possible(self, name: str, value: str) -> bool:
        """Is there an available variant with this value and the other choices made so far?"""
        want = {k: v for k, v in self.chosen.items() if k != name} | {name: value}
        return any(
            v["available"] > 0 and all(v["attributes"].get(k) == w for k, w in want.items())
            for v in self.product.get("variants", [])
        )

    def variant(self) -> dict | None:
        names = self.option_names()
        if any(name not in self.chosen for name in names):
            return None
        for variant in self.product.get("variants", []):
            if all(variant["attributes"].get(n) == self.chosen[n] for n in names):
                return variant
        return None

    def render(self) -> None:
        self.pickers.clear()
        for name in self.option_names():
            self.pickers.add(
                toga.Label(
                    f"{name.capitalize()}: {self.chosen.get(name, 'choose one')}",
                    style=theme.muted(margin_top=6),
                )
            )
            values = self.product["options"][name]
            per_row = 3 if max((len(v) for v in values), default=0) > 3 else 4
            line = None
            for index, value in enumerate(values):
                if index % per_row == 0:
                    line = toga.Box(style=theme.row())
                    self.pickers.add(line)
                picked = self.chosen.get(name) == value
                button = toga.Button(
                    ("✓ " if picked else "") + theme.shorten(value, 12),
                    id=f"option-{name}-{value}",
                    on_press=self.pick,
                    enabled=self.possible(name, value) or picked,
                    style=(theme.primary if picked else theme.secondary)(flex=1, margin=(2, 2)),
                )
                line.add(button)
        variant = self.variant()
        product = self.product
        price = variant["price"] if variant else product["price"]
        if product.get("for_sale", True):
            tax = " incl. VAT" if product.get("market", {}).get("prices_include_tax", True) else " excl. tax"
            self.price.text = (
                ("from " if product.get("price_varies") and not variant else "") + money(price) + tax
            )
        else:
            self.price.text = "Not sold in your country"
        if variant:
            self.sku.text = f"Item {variant['sku']}"
            self.availability.text = (
                f"In stock ({variant['available']} left)"
                if 0 < variant["available"] <= 5
                else "In stock"
                if variant["available"] > 0
                else "Sold out"
            )
        else:
            self.sku.text = ""
            self.availability.text = "Available" if product.get("available") else "Sold out"
        self.add.enabled = bool(variant and variant["available"] > 0 and product.get("for_sale", True))
        self.add.text = (
            "Add to cart"
            if variant or not self.option_names()
            else "Choose " + " and ".join(n for n in self.option_names() if n not in self.chosen)
        )

    async def pick(self, widget) -> None:
        _, name, value = widget.id.split("-", 2)
        self.chosen[name] = value
        # A choice that makes another one impossible clears that one.
        for other in list(self.chosen):
            if other != name and not self.possible(other, self.chosen[other]):
                del self.chosen[other]
        self.render()

    # --- gallery -------------------------------------------------------------------------------------
    async def step_image(self, widget) -> None:
        step = 1 if widget.id == "image-next" else -1
        await self.show_image((self.image_index + step) % max(len(self.images), 1))

    async def show_image(self, index: int) -> None:
        self.image_index = index
        if not self.images:
            self.image_caption.text = "No picture"
            return
        self.image_caption.text = f"Picture {index + 1} of {len(self.images)}: {self.product['name']}"
        try:
            response = await self.gateway.http.get(self.images[index])
            self.image.image = toga.Image(src=response.content) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, OSError, RuntimeError):
            self.image.image = None  # a picture that can't be shown is left out, the caption says what it is

    # --- add ------------------------------------------------------------------------------------------
    def actions(self):
        return [self.message, toga.Box(children=[self.quantity, self.add], style=theme.row())]

    async def add_to_cart(self, widget) -> None:
        variant = self.variant()
        if variant is None:
            return
        body = {"sku": variant["sku"], "quantity": int(self.quantity.value or 1)}

        async def add() -> None:
            cart = await self.gateway.write("POST", f"{MOBILE}/cart/items", body)
            self.state.cart_changed(cart)
            self.shop.refresh_tabs()
            self.say(
                f"Added to your cart: {self.product['name']} ({', '.join(self.chosen.values())})", kind="info"
            )

        await self.attempt(add)
