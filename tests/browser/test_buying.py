"""Buying in a real browser: register, find, pick, add to cart, pay with a test card — and the card
number goes only to the payment provider, never to a Mercato host (checked from the network log)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot

CARD, DECLINED = "4242424242424242", "4000000000000002"


async def _register(page: Page) -> None:
    await page.goto("/register")
    await page.get_by_label("Name").fill("Ada Lovelace")
    await page.get_by_label("E-mail").fill(f"ada-{uuid.uuid4().hex[:8]}@example.com")
    await page.get_by_label("Password").fill("correct horse battery staple")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("link", name="Orders")).to_be_visible()


async def _add_a_tshirt_to_the_cart(page: Page) -> None:
    await page.get_by_label("Search products").fill("tshrit")
    await page.get_by_label("Search products").press("Enter")
    await page.locator("main a[href^='/p/']").first.click()
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart"))


async def _pay(page: Page, card: str) -> None:
    await _fill_checkout(page, card)
    await page.locator("#pay").click()


async def _fill_checkout(
    page: Page, card: str, *, email: str | None = None, name: str = "Ada Lovelace"
) -> None:
    """The checkout page filled in, not sent: a guest's `email`, a new address (first purchase), a card."""
    await page.goto("/checkout")
    if email is not None:
        await page.get_by_label("E-mail").fill(email)
    if await page.locator("#f-line1").is_visible():  # a new address (the first purchase)
        for field, value in (
            ("name", name),
            ("line1", "1 Main St"),
            ("postal_code", "10115"),
            ("city", "Berlin"),
        ):
            await page.locator(f"#f-{field}").fill(value)
        await page.get_by_label("Country").select_option("DE")
    await page.get_by_label("Card number").fill(card)
    await page.get_by_label("Month (MM)").fill("12")
    await page.get_by_label("Year (YYYY)").fill("2030")
    await page.get_by_label("CVC").fill("123")


async def test_a_new_customer_buys_a_tshirt_and_the_card_number_never_reaches_mercato(page: Page, platform):
    mercato_hosts = {urlsplit(url).netloc for url in (platform.topology.storefront_url, platform.gateway)}
    sent_to_mercato: list[str] = []

    def record(request) -> None:
        if urlsplit(request.url).netloc in mercato_hosts:
            sent_to_mercato.append(f"{request.url}\n{request.post_data or ''}")

    page.on("request", record)
    await _register(page)
    await _add_a_tshirt_to_the_cart(page)
    await screenshot(page, platform, "cart")

    await _pay(page, DECLINED)
    await expect(page.get_by_role("alert").first).to_contain_text("declined")
    await page.goto("/orders")
    await expect(page.locator("main a[href^='/orders/ord_']")).to_have_count(0)  # nothing was bought

    await _pay(page, CARD)
    await expect(page).to_have_url(re.compile(r"/orders/ord_"))
    order_url = page.url
    await expect(page.locator("main")).to_contain_text("T-Shirt")
    await screenshot(page, platform, "confirmation")
    await page.goto("/orders")
    await expect(page.locator(f"main a[href='{urlsplit(order_url).path}']")).to_have_count(1)

    assert sent_to_mercato, "the network log saw the shop's own requests"
    for request in sent_to_mercato:
        digits = re.sub(r"\D", "", request)
        assert CARD not in digits and DECLINED not in digits, request
