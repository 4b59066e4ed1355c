"""The quote in the shop, in a real browser, at desktop width and at 390 px: the cart shows VAT included
for Germany; at checkout the delivery options and the totals follow the address (New York: sales tax
added, US shipping methods), another billing address can be given, and the order page keeps it all."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_buying import CARD, _register
from tests.browser.test_phone_widths import _fits


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
async def shop(request, browser: Browser, platform) -> AsyncIterator[Page]:
    width = request.param
    context = await browser.new_context(
        base_url=platform.topology.storefront_url,
        viewport={"width": width, "height": 900 if width > 400 else 844},
        is_mobile=width < 400,
        has_touch=width < 400,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def test_delivery_and_tax_follow_the_address_through_to_the_order(shop: Page, platform):
    phone = shop.viewport_size["width"] < 400
    suffix = "-phone" if phone else ""
    await _register(shop)
    await shop.goto("/p/classic-cotton-t-shirt")
    await shop.get_by_role("button", name="Add to cart").click()
    await expect(shop).to_have_url(re.compile(r"/cart"))
    await expect(shop.locator("#cart-totals")).to_contain_text("incl. VAT 19%")
    await expect(shop.locator("#ship-to")).to_contain_text("Germany")

    await shop.goto("/checkout")
    for field, value in (
        ("name", "Ada Lovelace"),
        ("line1", "1 Main St"),
        ("postal_code", "10115"),
        ("city", "Berlin"),
    ):
        await shop.locator(f"#f-{field}").fill(value)
    await shop.locator("#f-country").select_option("DE")
    delivery = shop.locator("#delivery")
    await expect(delivery).to_contain_text("Click & collect at Mercato Berlin")
    await expect(shop.locator("#checkout-totals")).to_contain_text("incl. VAT 19%")

    # To New York: US methods in dollars, sales tax added on top.
    await shop.locator("#f-city").fill("New York")
    await shop.locator("#f-postal_code").fill("10001")
    await shop.locator("#f-region").fill("NY")
    await shop.locator("#f-country").select_option("US")
    await expect(delivery).to_contain_text("Express shipping")
    await expect(delivery).not_to_contain_text("Click & collect")
    totals = shop.locator("#checkout-totals")
    await expect(totals).to_contain_text("Sales tax (NY) 4%")
    await expect(totals).to_contain_text("$")
    await delivery.get_by_label(re.compile("Express shipping")).check()
    await expect(totals).to_contain_text("Express shipping")
    pay_label = await shop.locator("#pay").inner_text()
    total_text = await shop.locator("#checkout-total").inner_text()
    assert total_text in pay_label

    await shop.get_by_label("Same as the shipping address").uncheck()
    for field, value in (
        ("name", "Ada's Studio LLC"),
        ("line1", "5 Park Ave"),
        ("postal_code", "10016"),
        ("city", "New York"),
        ("region", "NY"),
    ):
        await shop.locator(f"#b-billing_{field}").fill(value)
    await shop.locator("#b-billing_country").select_option("US")
    await shop.get_by_label("Card number").fill(CARD)
    await shop.get_by_label("Month (MM)").fill("12")
    await shop.get_by_label("Year (YYYY)").fill("2030")
    await shop.get_by_label("CVC").fill("123")
    await delivery.scroll_into_view_if_needed()
    await screenshot(shop, platform, f"checkout-delivery{suffix}")
    if phone:
        await _fits(shop)
    await shop.locator("#pay").click()

    await expect(shop).to_have_url(re.compile(r"/orders/ord_"))
    await expect(shop.locator("#order-totals")).to_contain_text("Sales tax (NY) 4%")
    await expect(shop.locator("#order-totals")).to_contain_text(total_text)
    await expect(shop.locator("#order-shipping-method")).to_contain_text("Express shipping")
    await expect(shop.locator("#billing-address")).to_contain_text("Ada's Studio LLC")
    await screenshot(shop, platform, f"order-totals{suffix}")
    if phone:
        await _fits(shop)
