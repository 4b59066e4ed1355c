"""Home: search (suggestions as you type), categories, featured products."""

from __future__ import annotations

import asyncio

import toga

from shop import theme
from shop.api import MOBILE
from shop.errors import ApiError, Offline
from shop.screens.base import Screen, heading, product_card

SUGGEST_AFTER = 0.15  # seconds of no typing before asking for suggestions


def flatten(categories: list[dict], prefix: str = "") -> list[dict]:
    """Sub-categories as one list of names a picker can show: "Clothing", "Clothing · T-Shirts", …"""
    found = []
    for category in categories:
        name = f"{prefix}{category['name']}"
        found.append({"slug": category["slug"], "name": name})
        found += flatten(category.get("children") or [], f"{name} · ")
    return found


class HomeScreen(Screen):
    title = "Mercato"

    def __init__(self, shop):
        super().__init__(shop)
        self.search = toga.TextInput(
            id="search",
            placeholder="Search products",
            on_change=self.typed,
            on_confirm=self.submit,
            style=theme.text(height=44, margin_bottom=4),
        )
        self.suggestions = toga.Box(id="suggestions", style=theme.column())
        self.categories = toga.Box(id="categories", style=theme.column())
        self.featured = toga.Box(id="featured", style=theme.column())
        self._pending: asyncio.Task | None = None
        self.children: dict[str, list[dict]] = {}

    async def load(self) -> None:
        home, _fresh = await self.gateway.get(f"{MOBILE}/home")
        self.box.clear()
        self.box.add(
            toga.Label("Search", style=theme.muted()),
            self.search,
            self.suggestions,
            heading("Categories"),
            self.categories,
            heading("Featured"),
            self.featured,
        )
        self.categories.clear()
        self.children = {c["slug"]: flatten(c.get("children") or []) for c in home.get("categories", [])}
        for category in home.get("categories", []):
            self.categories.add(
                toga.Button(
                    category["name"],
                    id=f"category-{category['slug']}",
                    on_press=self.open_category,
                    style=theme.secondary(margin=(0, 0, 6, 0)),
                )
            )
        self.featured.clear()
        for item in home.get("featured", []):
            self.featured.add(product_card(self.shop, item))

    async def typed(self, widget) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.ensure_future(self._suggest_later(widget.value))

    async def _suggest_later(self, text: str) -> None:
        await asyncio.sleep(SUGGEST_AFTER)
        await self.suggest(text)

    async def suggest(self, text: str) -> list[str]:
        """Ask the gateway for suggestions (typo-tolerant) and show them as buttons under the box."""
        self.suggestions.clear()
        if len(text.strip()) < 2:
            return []
        try:
            answer, _ = await self.gateway.get(f"{MOBILE}/suggestions", {"q": text.strip()}, cache=False)
        except (Offline, ApiError):
            return []
        found = answer.get("suggestions", [])[:6]
        for index, suggestion in enumerate(found):
            self.suggestions.add(
                toga.Button(
                    suggestion,
                    id=f"suggestion-{index}",
                    on_press=self.pick_suggestion,
                    style=theme.secondary(height=40, margin=(0, 0, 2, 0)),
                )
            )
        return found

    async def pick_suggestion(self, widget) -> None:
        self.search.value = widget.text
        await self.submit(self.search)

    async def submit(self, widget) -> None:
        from shop.screens.listing import ListingScreen

        if self._pending is not None:
            self._pending.cancel()
        if widget.value.strip():
            await self.shop.show(ListingScreen(self.shop, q=widget.value.strip()))

    async def open_category(self, widget) -> None:
        from shop.screens.listing import ListingScreen

        slug = widget.id.removeprefix("category-")
        await self.shop.show(
            ListingScreen(self.shop, category=slug, name=widget.text, subcategories=self.children.get(slug))
        )
