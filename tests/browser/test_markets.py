"""The shop in the shopper's market, in a real browser: the header's "Ship to" picker switches every
price from euros to pounds to dollars (tax included, then excluded), what is not sold in a market is
neither listed nor for sale there, other visitors keep their own market, and a signed-in shopper's cart
moves with the picker (only with the picker: not with a link from elsewhere)."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from mercato.webkit.money import format_money
from tests.browser.conftest import screenshot
from tests.browser.test_buying import _register
from tests.browser.test_phone_widths import _fits

SHIRT, CANDLE = "classic-cotton-t-shirt", "amber-noir-candle"  # the demo catalog's; no US price: the candle
MARKETS = (("DE", "EUR", "incl. VAT"), ("GB", "GBP", "incl. VAT"), ("US", "USD", "excl. tax"))


async def ship_to(page: Page, country: str) -> None:
    """Pick a country as a shopper does: choosing it is enough (the form posts itself)."""
    async with page.expect_navigation():
        await page.get_by_label("Ship to").select_option(country)
    await expect(page.get_by_label("Ship to")).to_have_value(country)


def first_price(gateway, slug: str, country: str) -> str:
    """What the product page shows first: the first variant in stock, priced in the country's market."""
    product = gateway.get(f"/api/v1/products/{slug}", params={"country": country}).json()
    return format_money(next(v for v in product["variants"] if v["available"])["price"])


async def test_the_picker_switches_the_shop_from_euros_to_pounds_to_dollars(page: Page, platform, gateway):
    await page.goto(f"/p/{SHIRT}")
    for country, currency, note in MARKETS:
        if country != "DE":
            await ship_to(page, country)
        await expect(page).to_have_url(re.compile(f"/p/{SHIRT}$"))  # back where the shopper was
        await expect(page.locator("#price")).to_have_text(first_price(gateway, SHIRT, country))
        await expect(page.locator(".tax-note")).to_have_text(note)
        tax = "include VAT" if note == "incl. VAT" else "exclude tax"
        await expect(page.locator("footer")).to_contain_text(f"Prices in {currency} {tax}")
        if country == "GB":
            await screenshot(page, platform, "product-gb")

    await page.goto("/search?q=tshirt")  # in dollars
    await expect(page.locator("main .card .price").first).to_contain_text("$")
    await page.goto("/search?q=amber+noir+candle")  # without what is not sold in the US
    await expect(page.locator("main")).to_contain_text("Nothing found")
    await page.goto(f"/p/{CANDLE}")
    await expect(page.locator("#not-sold-here")).to_contain_text("United States")
    await expect(page.get_by_role("button", name="Add to cart")).to_have_count(0)
    await screenshot(page, platform, "product-not-sold-here")

    await ship_to(page, "DE")  # and back: for sale again, in euros
    await expect(page.locator("#price")).to_have_text(first_price(gateway, CANDLE, "DE"))
    await expect(page.get_by_role("button", name="Add to cart")).to_be_visible()


async def test_each_visitor_sees_their_own_market(browser: Browser, platform, gateway):
    """The pages kept for visitors without a session are kept per market: the Briton's pounds are never
    shown to the German, nor the other way round, however quickly they follow each other."""
    visitors = []
    for country in ("GB", "DE", "GB"):
        context = await browser.new_context(base_url=platform.topology.storefront_url)
        visitor = await context.new_page()
        await visitor.goto(f"/p/{SHIRT}")
        if country != "DE":
            await ship_to(visitor, country)
        visitors.append((visitor, country))
    for visitor, country in visitors:
        await visitor.reload()
        await expect(visitor.locator("#price")).to_have_text(first_price(gateway, SHIRT, country))
        await visitor.context.close()


async def test_the_picker_fits_a_phone(browser: Browser, platform):
    context = await browser.new_context(
        base_url=platform.topology.storefront_url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = await context.new_page()
    await phone.goto("/")
    await ship_to(phone, "GB")
    await _fits(phone)
    await expect(phone.locator("main .card .price").first).to_contain_text("£")
    await screenshot(phone, platform, "home-gb-phone")
    await context.close()


async def test_a_signed_in_shoppers_cart_moves_with_the_picker_and_not_with_a_link_from_elsewhere(
    page: Page, platform, gateway
):
    await _register(page)
    await page.goto(f"/p/{SHIRT}")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))
    await page.goto(f"/p/{SHIRT}")
    await ship_to(page, "GB")
    access = next(c["value"] for c in await page.context.cookies() if c["name"] == "mercato_access")
    auth = {"authorization": f"Bearer {access}"}
    cart = gateway.get("/api/v1/cart", headers=auth).json()
    assert (cart["country"], cart["market"]["currency"]) == ("GB", "GBP")

    # The same request from another site's link: the shop is shown for the US, the cart stays put.
    sent = await page.request.get(
        "/market?country=US&next=/", headers={"sec-fetch-site": "cross-site"}, max_redirects=0
    )
    assert sent.status == 303
    assert gateway.get("/api/v1/cart", headers=auth).json()["country"] == "GB"
