"""Browsing the shop in a real browser: home, type-ahead search, results with facets, product page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot


async def test_a_shopper_finds_a_tshirt_by_typing_with_a_typo_and_picks_a_variant(page: Page, platform):
    await page.goto("/")
    await expect(page).to_have_title(re.compile("Mercato"))
    await expect(page.locator("main a[href^='/p/']").first).to_be_visible()
    await screenshot(page, platform, "home")

    search = page.get_by_label("Search products")
    await search.fill("t-sh")
    suggestions = page.locator("#site-search-suggestions")
    await expect(suggestions).to_be_visible()
    await expect(suggestions).to_contain_text("T-Shirt")

    await search.fill("tshrit")
    await search.press("Enter")
    await expect(page).to_have_url(re.compile(r"/search\?q=tshrit"))
    await expect(page.locator("main")).to_contain_text("T-Shirt")
    await screenshot(page, platform, "search")

    await page.locator("main a[href^='/p/']").first.click()
    await expect(page).to_have_url(re.compile(r"/p/"))
    await expect(page.locator("h1")).to_be_visible()
    radios = page.locator("input[type=radio][name=size]")
    if await radios.count() > 1:  # the size chips are labels: click one, as a shopper does
        size = radios.nth(1)
        await page.locator(f"label[for='{await size.get_attribute('id')}']").click()
        await expect(size).to_be_checked()
    await screenshot(page, platform, "product")


async def test_the_shop_can_be_used_with_the_keyboard_alone(page: Page, platform):
    await page.goto("/")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    await page.goto("/")
    search = page.get_by_label("Search products")
    for _ in range(10):  # the search box is a few tab stops in (skip link, logo, …)
        if await search.evaluate("element => element === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(search).to_be_focused()
    await page.keyboard.type("t-sh")
    await expect(page.locator("#site-search-suggestions")).to_be_visible()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/p/"))
    await expect(page.locator("h1")).to_contain_text("T-Shirt")
