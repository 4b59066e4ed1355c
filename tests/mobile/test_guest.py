"""Shopping in the app without an account (issue 15): the first add makes a guest cart whose token stays
in the secure store; checkout asks for an e-mail and places the order; the confirmation opens the order's
signed link. And a guest who signs up keeps what they added: the guest's cart joins the account's."""

from __future__ import annotations

import httpx
import pytest
from shop.device import Device

from tests.mobile.conftest import find, launch, register, said, started, tap, texts
from tests.mobile.test_journey import BERLIN, CARD, _deliver_to, _pick, _product_with_options

pytestmark = pytest.mark.e2e


class Browser(Device):
    """The desktop, with the links it was asked to open kept."""

    def __init__(self) -> None:
        super().__init__()
        self.visited: list[str] = []

    async def open_url(self, url: str) -> None:
        self.visited.append(url)


async def _add_as_guest(shop) -> dict:
    await _product_with_options(shop)
    variant = await _pick(shop)
    await tap(shop.screen.add)
    assert "Added to your cart" in said(shop.screen.message), texts(shop.root)
    assert not shop.state.signed_in and shop.gateway.secrets.get("cart_token")
    return variant


async def test_a_guest_buys_and_opens_the_order_by_its_link(platform, tmp_path):
    app = launch(platform.gateway, tmp_path / "app-data", device=Browser())
    await started(app)
    shop = app.shop
    try:
        variant = await _add_as_guest(shop)
        await tap(shop.tab_buttons["cart"])
        assert type(shop.screen).__name__ == "CartScreen", texts(shop.root)  # no sign-in asked
        assert [line["sku"] for line in shop.screen.cart["lines"]] == [variant["sku"]]
        await tap(shop.screen.checkout)
        checkout = shop.screen
        assert checkout.info["addresses"] == [] and checkout.email in checkout.box.children
        await _deliver_to(shop, BERLIN)
        checkout.card_number.value, checkout.card_expiry.value, checkout.card_cvc.value = CARD, "12/30", "123"
        await tap(checkout.pay)
        assert type(shop.screen).__name__ == "CheckoutScreen" and "e-mail" in said(checkout.message)
        checkout.email.value = "guest-app@example.com"
        await tap(checkout.pay)
        confirmation = shop.screen
        assert type(confirmation).__name__ == "ConfirmationScreen", texts(shop.root)
        order = confirmation.order
        assert order["email"] == "guest-app@example.com" and "/orders/" in order["order_url"]
        assert "guest-app@example.com" in said(find(confirmation.box, "confirmation-note"))
        await tap(confirmation.view)
        assert shop.device.visited == [order["order_url"]]  # the signed page, in the browser
        # The link is the order's: orders shows it to whoever holds its token, and to no one else.
        token = order["order_url"].split("?t=", 1)[1]
        seen = httpx.get(f"{platform.gateway}/api/v1/orders/{order['id']}", headers={"X-Order-Token": token})
        assert seen.status_code == 200 and seen.json()["totals"] == order["totals"]
    finally:
        await app.shop.gateway.close()


async def test_signing_up_keeps_what_the_guest_added(app, platform):
    shop = app.shop
    variant = await _add_as_guest(shop)
    await register(app)  # the Account tab: create an account (signed in at once)
    assert shop.gateway.secrets.get("cart_token") is None  # merged: the token is forgotten
    assert shop.state.cart_count >= 1
    await tap(shop.tab_buttons["cart"])
    assert [line["sku"] for line in shop.screen.cart["lines"]] == [variant["sku"]], texts(shop.root)
    token = shop.gateway.secrets.get("access_token")
    cart = httpx.get(f"{platform.gateway}/api/v1/cart", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [(variant["sku"], 1)]
