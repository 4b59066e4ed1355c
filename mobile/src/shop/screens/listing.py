"""A category or a search: filters (from the facets the answer carries), results, the next page loaded
when the shopper scrolls to the end (or taps "Show more")."""

from __future__ import annotations

import toga

from shop import theme
from shop.api import MOBILE
from shop.screens.base import Screen, product_card

ANY = "Any"
SORTS = {  # what search sorts by (the mobile API passes it on)
    "Relevance": None,
    "Price: low to high": "price_asc",
    "Price: high to low": "price_desc",
    "Newest": "newest",
}


class ListingScreen(Screen):
    def __init__(
        self,
        shop,
        category: str | None = None,
        q: str | None = None,
        name: str | None = None,
        subcategories: list[dict] | None = None,
    ):
        super().__init__(shop)
        self.category, self.q = category, q
        self.top_category = category
        self.subcategories = {c["name"]: c["slug"] for c in subcategories or []}
        self.title = name or (f"“{q}”" if q else "Products")
        self.filters: dict[str, str] = {}
        self.sort: str | None = None
        self.next_cursor: str | None = None
        self.loading = False
        self.loads = 0  # pages shown from the start (a filter or sort starts again)
        self.note = toga.Label("", id="listing-note", style=theme.muted(margin_bottom=6))
        self.filter_box = toga.Box(id="filters", style=theme.column())
        self.results = toga.Box(id="results", style=theme.column())
        self.more = toga.Button("Show more", id="more", on_press=self.more_pressed, style=theme.secondary())
        self.items: list[dict] = []

    def _params(self, cursor: str | None = None) -> dict:
        params = {"category": self.category, "q": self.q, "cursor": cursor, "sort": self.sort} | self.filters
        return {k: v for k, v in params.items() if v}

    async def load(self) -> None:
        page, fresh = await self.gateway.get(f"{MOBILE}/products", self._params())
        self.items = list(page.get("items", []))
        self.next_cursor = page.get("next_cursor") if fresh else None
        self.note.text = f"{len(self.items)} shown"
        self._build_filters(page.get("facets") or {})
        self.box.clear()
        self.box.add(self.note, self.filter_box, self.results)
        self.results.clear()
        self._add(self.items)
        self._show_more()
        self.loads += 1

    def _build_filters(self, facets: dict) -> None:
        self.filter_box.clear()
        if self.subcategories:
            choice = toga.Selection(id="subcategory", items=[ANY, *self.subcategories], style=theme.text())
            chosen = [name for name, slug in self.subcategories.items() if slug == self.category]
            choice.value = chosen[0] if chosen else ANY
            choice.on_change = self.filter_changed
            self.filter_box.add(toga.Label("Category", style=theme.muted()), choice)
        sort = toga.Selection(id="sort", items=list(SORTS), style=theme.text())
        sort.value = next((label for label, value in SORTS.items() if value == self.sort), "Relevance")
        sort.on_change = self.filter_changed  # after the value is set: setting it is not a change
        self.filter_box.add(toga.Label("Sort by", style=theme.muted()), sort)
        for name, values in facets.items():
            if name not in ("colour", "size", "brand") or not values:
                continue
            options = [ANY] + [str(v["value"]) for v in values]
            selection = toga.Selection(id=f"filter-{name}", items=options, style=theme.text())
            selection.value = self.filters.get(name, ANY)
            selection.on_change = self.filter_changed
            self.filter_box.add(toga.Label(name.capitalize(), style=theme.muted()), selection)

    def _add(self, items: list[dict]) -> None:
        if not items and not self.results.children:
            self.results.add(toga.Label("Nothing found. Try another word.", style=theme.muted()))
        for item in items:
            self.results.add(product_card(self.shop, item))

    def _show_more(self) -> None:
        if self.more in self.box.children:
            self.box.remove(self.more)
        if self.next_cursor:
            self.box.add(self.more)

    async def filter_changed(self, widget) -> None:
        if widget.id == "subcategory":
            self.category = self.subcategories.get(widget.value, self.top_category)
        elif widget.id == "sort":
            self.sort = SORTS.get(widget.value)
        else:
            name = widget.id.removeprefix("filter-")
            if widget.value in (None, ANY):
                self.filters.pop(name, None)
            else:
                self.filters[name] = widget.value
        await self.attempt(self.load)

    async def more_pressed(self, widget) -> None:
        await self.load_more()

    async def load_more(self) -> None:
        if self.loading or not self.next_cursor:
            return
        self.loading = True
        try:
            page, fresh = await self.gateway.get(
                f"{MOBILE}/products", self._params(self.next_cursor), cache=False
            )
            new = page.get("items", [])
            self.items.extend(new)
            self.next_cursor = page.get("next_cursor") if fresh else None
            self._add(new)
            self.note.text = f"{len(self.items)} shown"
            self._show_more()
        except Exception as error:  # a failed next page leaves the list as it is
            self.say(getattr(error, "message", "Couldn't load more. Scroll again to retry."))
        finally:
            self.loading = False
