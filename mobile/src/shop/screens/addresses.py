"""An address picker for checkout (delivery, and billing when it differs): an entry of the address book,
the cart's own address, or a new one typed in and confirmed with "Use this address". What is picked is
handed to `on_chosen`, which sends it to the cart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import toga

from shop import theme

NEW = "A new address"
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
FORM = (
    ("name", "Full name"),
    ("line1", "Street and number"),
    ("line2", "Flat, floor (optional)"),
    ("postal_code", "Postcode"),
    ("city", "City"),
    ("region", "State or region (US: NY, CA…)"),
    ("country", "Country code (e.g. DE)"),
)


def label(address: dict) -> str:
    return ", ".join(str(address[k]) for k in ("name", "line1", "postal_code", "city") if address.get(k))


def plain(address: dict | None) -> dict:
    """An address as a request body takes it: the postal fields that have a value."""
    return {k: address[k] for k in ADDRESS_FIELDS if (address or {}).get(k)}


class AddressPicker:
    def __init__(self, prefix: str, on_chosen: Callable[[dict], Awaitable[None]]):
        self.prefix = prefix
        self.on_chosen = on_chosen
        self.choices: dict[str, dict] = {}
        self.selection = toga.Selection(id=f"{prefix}-address", items=[NEW], style=theme.text())
        self.fields = {
            name: toga.TextInput(
                id=f"{prefix}-{name}", placeholder=text, style=theme.text(height=40, margin_bottom=4)
            )
            for name, text in FORM
        }
        self.use = toga.Button(
            "Use this address", id=f"{prefix}-use", on_press=self.use_typed, style=theme.secondary()
        )
        self.form = toga.Box(id=f"{prefix}-new", style=theme.column())
        for name, text in FORM:
            self.form.add(toga.Label(text, style=theme.muted()), self.fields[name])
        self.form.add(self.use)
        self.box = toga.Box(children=[self.selection], style=theme.column())

    def fill(self, book: list[dict], current: dict | None) -> None:
        """The address book's entries (and the cart's address if it is not one of them), `current`
        selected; no address yet: the new-address form."""
        self.choices = {theme.shorten(label(a), 30): plain(a) for a in book}  # 30: the picker fits 390 px
        if current and plain(current) not in self.choices.values():
            self.choices[theme.shorten(label(current), 30)] = plain(current)
        chosen = next((text for text, a in self.choices.items() if a == plain(current)), NEW)
        self.selection.on_change = None  # filling is not choosing
        self.selection.items = [*self.choices, NEW]
        self.selection.value = chosen
        self.selection.on_change = self.changed
        self._show_form(chosen == NEW)

    def _show_form(self, show: bool) -> None:
        if show and self.form not in self.box.children:
            self.box.add(self.form)
        elif not show and self.form in self.box.children:
            self.box.remove(self.form)

    def typed(self) -> dict:
        return {name: field.value.strip() for name, field in self.fields.items() if field.value.strip()}

    async def changed(self, widget) -> None:
        self._show_form(widget.value == NEW)
        if widget.value != NEW:
            await self.on_chosen(self.choices[widget.value])

    async def use_typed(self, widget) -> None:
        await self.on_chosen(self.typed())
