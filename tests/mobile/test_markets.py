"""The shopper's market in the app on the real platform: chosen on the Account screen, kept on the
device, and every browsing call priced in it — pounds, then dollars (tax excluded), a product not sold
in the US shown as such and not for the cart."""

from __future__ import annotations

import pytest
from shop.screens.product import ProductScreen

from tests.mobile.conftest import find, launch, register, said, started, tap, texts

pytestmark = pytest.mark.e2e

SHIRT, CANDLE = "classic-cotton-t-shirt", "amber-noir-candle"  # the demo catalog's; no US price: the candle


async def choose(app, country: str) -> None:
    shop = app.shop
    await tap(shop.tab_buttons["account"])
    account = shop.screen
    picker = find(account.box, "country")
    picker.value = next(row.value for row in picker.items if row.value.startswith(f"{country} ·"))
    await tap(find(account.box, "save-country"))


async def test_the_chosen_country_prices_every_screen_and_stays_on_the_device(
    app, platform, gateway, tmp_path
):
    shop = app.shop
    await register(app)  # the Account screen, signed in, has the picker
    await choose(app, "GB")
    assert said(shop.screen.message) == "Prices are now in GBP, incl. VAT."
    await tap(shop.tab_buttons["home"])
    featured = texts(shop.screen.featured)
    assert "£" in featured and "€" not in featured, featured

    await shop.show(ProductScreen(shop, SHIRT))
    expected = gateway.get(f"/mobile/v1/products/{SHIRT}", params={"country": "GB"}).json()
    assert shop.screen.product == expected
    assert shop.screen.price.text.startswith("from £") or shop.screen.price.text.startswith("£")
    assert shop.screen.price.text.endswith("incl. VAT")

    await choose(app, "US")
    await shop.show(ProductScreen(shop, SHIRT))
    assert shop.screen.price.text.endswith("excl. tax") and "$" in shop.screen.price.text
    await shop.show(ProductScreen(shop, CANDLE))
    assert shop.screen.price.text == "Not sold in your country"
    assert not shop.screen.add.enabled

    # The app started again on this device: still the US.
    await app.shop.gateway.close()
    again = await started(launch(platform.gateway, tmp_path / "app-data"))
    assert again.shop.gateway.market["country"] == "US"
    featured = texts(again.shop.screen.featured)
    assert "$" in featured and "€" not in featured, featured
    await again.shop.gateway.close()
