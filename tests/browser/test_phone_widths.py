"""No page of the shopper's journey scrolls sideways on a phone: at 360, 390 and 414 px wide, from the
home page to the order page, signed out and in, with a cart, a refused payment and an order."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_buying import CARD, DECLINED, _pay, _register

WIDTHS = (360, 390, 414)


@pytest.fixture
async def phone(browser: Browser, platform) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=platform.topology.storefront_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def _fits(page: Page) -> None:
    """At each width the page is exactly as wide as the phone: a phone browser zooms out to show an
    overflowing page whole, so the layout width must equal the screen's, and nothing may be wider."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 844})
        scroll_width, inner_width = await page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, (
            f"{page.url} at {width}px: the page is {scroll_width}px wide in a {inner_width}px window"
        )
        assert inner_width == width, f"{page.url} at {width}px: the window is {inner_width}px"


async def test_no_page_of_the_journey_scrolls_sideways_at_phone_widths(phone: Page, platform, gateway):
    category = gateway.get("/api/v1/categories").json()["data"][0]["slug"]
    pages = ("/", f"/c/{category}", "/search?q=tshrit", "/p/classic-cotton-t-shirt", "/login", "/register")
    for path in pages:
        await phone.goto(path)
        await _fits(phone)
        if path == "/":
            await screenshot(phone, platform, "home-phone")
    await phone.goto("/p/no-such-product")
    await _fits(phone)

    await _register(phone)
    await phone.goto("/p/classic-cotton-t-shirt")
    await phone.get_by_role("button", name="Add to cart").click()
    await expect(phone).to_have_url(re.compile(r"/cart$"))
    await _fits(phone)
    await phone.goto("/checkout")
    await _fits(phone)

    await _pay(phone, DECLINED)
    await expect(phone.get_by_role("alert").first).to_contain_text("declined")
    await _fits(phone)
    await phone.set_viewport_size({"width": 390, "height": 844})
    await screenshot(phone, platform, "checkout-phone")

    await _pay(phone, CARD)
    await expect(phone).to_have_url(re.compile(r"/orders/ord_"))
    await _fits(phone)  # the confirmation, which is the order page
    for path in ("/orders", "/account"):
        await phone.goto(path)
        await _fits(phone)
