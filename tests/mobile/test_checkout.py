"""Issue 15's checkout in the app (toga_dummy) on the real platform: the cart and checkout show orders'
quote figure for figure — "incl. VAT 19 %" under the total in Germany, a Tax line before it in the US —
the shipping methods that apply to the address, with price and estimate, change with it; the billing
address is the delivery address unless the shopper switches to another; the order shows its totals, its
shipping method and both addresses, and its invoice opens as a PDF."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from shop.device import Device
from shop.screens.base import money

from tests.mobile.conftest import find, ids, launch, register, said, started, tap, texts, until
from tests.mobile.test_journey import BERLIN, CARD, _add_and_open_checkout, _deliver_to

pytestmark = pytest.mark.e2e

NEW_YORK = {
    "name": "Ada Lovelace", "line1": "350 Fifth Avenue", "postal_code": "10118", "city": "New York",
    "region": "NY", "country": "US",
}  # fmt: skip
PARIS = {"name": "Lovelace SARL", "line1": "8 Rue de Rivoli", "postal_code": "75004", "city": "Paris"}


class Viewer(Device):
    """The desktop, with what it was asked to open kept."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[bytes] = []

    async def open_document(self, path: Path) -> None:
        self.opened.append(path.read_bytes())


def _rows(screen_box) -> list[tuple[str, str]]:
    """The totals as the shopper reads them, row by row: (words, amount)."""
    totals = find(screen_box, "totals")
    assert totals is not None, texts(screen_box)
    return [(row.children[0].text, row.children[1].text) for row in totals.children]


def _method_buttons(checkout) -> list:
    return [w for w in ids(checkout.methods, "method-") if not w.id.startswith("method-about-")]


def _orders(platform, shop, path: str) -> dict:
    """What orders answers the same shopper (the app's token) through the gateway."""
    token = shop.gateway.secrets.get("access_token")
    answer = httpx.get(f"{platform.gateway}/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_quote_methods_billing_and_the_order_as_orders_answers_them(platform, tmp_path):
    app = launch(platform.gateway, tmp_path / "app-data", device=Viewer())
    await started(app)
    shop = app.shop
    try:
        await register(app)
        await _add_and_open_checkout(shop)
        # The cart: incl. VAT under the total, in the default market (prices include tax).
        cart = _orders(platform, shop, "/cart")
        rows = dict(_rows(shop.screen.box))
        assert rows["Subtotal"] == money(cart["totals"]["subtotal"]) and rows["Total"] == money(
            cart["totals"]["total"]
        )
        incl = [(text, amount) for text, amount in _rows(shop.screen.box) if text.startswith("incl. ")]
        assert incl and [amount for _, amount in incl] == [money(t["amount"]) for t in cart["tax_lines"]]
        assert [text for text, _ in _rows(shop.screen.box)][-len(incl) :] == [text for text, _ in incl]

        # Checkout: deliver to Berlin → the methods that apply there, with price and estimate.
        await tap(shop.screen.checkout)
        checkout = shop.screen
        await _deliver_to(shop, BERLIN)
        methods = _orders(platform, shop, "/cart/shipping-methods")["data"]
        buttons = _method_buttons(checkout)
        assert [b.id for b in buttons] == [f"method-{m['id']}" for m in methods] and len(methods) >= 2
        for button, method in zip(buttons, methods, strict=True):
            about = find(checkout.methods, f"method-about-{method['id']}").text
            assert method["name"].startswith(button.text.removeprefix("✓ ").rstrip("…"))
            assert "day" in about or "today" in about
            assert money(method["price"]) in about or (method["price"]["amount"] == 0 and "Free" in about)
        dearest = max(methods, key=lambda m: m["price"]["amount"])
        await tap(find(checkout.methods, f"method-{dearest['id']}"))
        assert find(checkout.methods, f"method-{dearest['id']}").text.startswith("✓ "), said(checkout.message)
        cart = _orders(platform, shop, "/cart")
        assert cart["shipping_method"]["id"] == dearest["id"]
        rows = dict(_rows(checkout.box))
        [shipping] = [amount for text, amount in rows.items() if text.startswith("Shipping (Express")]
        assert shipping == money(cart["totals"]["shipping"]) == money(dearest["price"])
        assert rows["Total"] == money(cart["totals"]["total"])
        assert "incl. VAT 19 %" in rows or any("19 %" in text for text in rows), rows

        # Billing: the delivery address unless switched to another.
        assert checkout.same.value is True and checkout.billing.box not in checkout.billing_box.children
        checkout.same.value = False  # the switch: another billing address
        await until(lambda: checkout.billing.box in checkout.billing_box.children)
        for field, value in (PARIS | {"country": "FR"}).items():
            checkout.billing.fields[field].value = value
        await tap(checkout.billing.use)
        assert checkout.info["billing_address"]["city"] == "Paris", said(checkout.message)
        assert checkout.info["shipping_address"]["city"] == "Berlin"
        assert checkout.info["cart"]["shipping_method"]["id"] == dearest["id"]  # kept

        checkout.card_number.value, checkout.card_expiry.value, checkout.card_cvc.value = CARD, "12/30", "123"
        await tap(checkout.pay)
        confirmation = shop.screen
        assert type(confirmation).__name__ == "ConfirmationScreen", texts(shop.root)
        order = _orders(platform, shop, f"/orders/{confirmation.order['id']}")
        assert dict(_rows(confirmation.box))["Total"] == money(order["totals"]["total"])
        assert order["totals"] == cart["totals"]

        # The order: totals and tax as stored, the method, both addresses.
        await tap(confirmation.view)
        detail = shop.screen
        rows = _rows(detail.box)
        assert dict(rows)["Total"] == money(order["totals"]["total"])
        assert [amount for text, amount in rows if text.startswith("incl. ")] == [
            money(line["amount"]) for line in order["tax_lines"]
        ]
        assert dearest["name"] in find(detail.box, "order-shipping-method").text
        assert "Paris" in said(find(detail.box, "order-billing-address"))
        assert "Berlin" in said(find(detail.box, "order-shipping-address"))

        # The invoice, rendered after the order was placed: a button once issued, opened as a PDF.
        async def issued() -> bool:
            await shop.reload()
            return find(shop.screen.box, "invoice") is not None

        for _ in range(60):
            if await issued():
                break
            await asyncio.sleep(0.25)
        assert find(shop.screen.box, "invoice") is not None, texts(shop.screen.box)
        await tap(find(shop.screen.box, "invoice"))
        assert [pdf[:5] for pdf in shop.device.opened] == [b"%PDF-"], said(shop.screen.message)
    finally:
        await app.shop.gateway.close()


async def test_tax_on_top_in_the_us_and_other_methods_there(app, platform):
    shop = app.shop
    await register(app)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    checkout = shop.screen
    await _deliver_to(shop, BERLIN)
    in_germany = {b.id for b in _method_buttons(checkout)}
    await _deliver_to(shop, NEW_YORK)
    cart = _orders(platform, shop, "/cart")
    assert cart["market"]["prices_include_tax"] is False and cart["totals"]["total"]["currency"] == "USD"
    assert {b.id for b in _method_buttons(checkout)} != in_germany
    rows = _rows(checkout.box)
    words = [text for text, _ in rows]
    assert not [text for text in words if text.startswith("incl.")]
    tax_rows = [(text, amount) for text, amount in rows if text not in ("Subtotal", "Total", "Discount")]
    tax_rows = [row for row in tax_rows if not row[0].startswith("Shipping")]
    assert [amount for _, amount in tax_rows] == [money(t["amount"]) for t in cart["tax_lines"]] or [
        amount for _, amount in tax_rows
    ] == [money(cart["totals"]["tax"])]
    assert words.index("Total") == len(words) - 1  # the tax comes before the total
    assert dict(rows)["Total"] == money(cart["totals"]["total"]) and dict(rows)["Total"].startswith("$")
