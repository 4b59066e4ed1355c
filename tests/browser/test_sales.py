"""A sale through the whole platform: merchandising creates it in the back office's API, orders publishes
the set of sales (CataloguePromotionsChanged, through its outbox and the broker), catalog prices the
product with it and tells search; the shop's product page, its category and search results show the sale
price with the list price struck through, at 1280 and 390 px without scrolling sideways, and the cart
charges it. Archived, the list price is back everywhere."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.e2e.staff import signed_in_staff

SLUG = "lambswool-check-scarf"  # €79.00; no other browser test buys it
LIST, SALE = "€79.00", "€59.25"  # 25 % off: 19.75 off each unit


def _until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _page_price(gateway: httpx.Client) -> int:
    return gateway.get(f"/api/v1/products/{SLUG}").json()["variants"][0]["price"]["amount"]


def _hit(gateway: httpx.Client) -> dict:
    return gateway.get("/api/v1/search", params={"q": "lambswool check scarf"}).json()["data"][0]


async def _no_sideways_scroll(page: Page) -> None:
    widths = "[document.scrollingElement.scrollWidth, window.innerWidth]"
    scroll_width, inner_width = await page.evaluate(widths)
    assert scroll_width <= inner_width, f"{page.url}: {scroll_width}px wide in a {inner_width}px window"


async def test_a_sale_shows_struck_through_on_the_product_page_lists_and_search(
    browser: Browser, platform, gateway: httpx.Client
):
    product = gateway.get(f"/api/v1/products/{SLUG}").json()
    assert product["variants"][0]["price"]["amount"] == 7900 and product["sale"] is None
    _, staff = signed_in_staff(platform, gateway, "merchandising")
    ends = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    body = {
        "name": "Winter scarves",
        "trigger": "sale",
        "ends_at": ends.isoformat(),
        "conditions": {"product_ids": [product["id"]]},
        "action": {"type": "percentage", "percent": "25"},
    }
    created = gateway.post("/admin/v1/promotions", json=body, headers=staff)
    assert created.status_code == 201, created.text
    promotion = created.json()
    try:
        _until(lambda: _page_price(gateway) == 5925, "catalog to price the sale")
        _until(lambda: _hit(gateway)["price_range"]["min"]["amount"] == 5925, "search to follow")
        assert _hit(gateway)["compare_at_price"] == {"amount": 7900, "currency": "EUR"}

        context = await browser.new_context(
            base_url=platform.topology.storefront_url, viewport={"width": 1280, "height": 900}
        )
        page = await context.new_page()
        page.set_default_timeout(15_000)
        await page.goto(f"/p/{SLUG}")
        price = page.locator(".buy-box .price")
        await expect(price.locator("del.was")).to_have_text(f"was {LIST}")
        await expect(page.locator("#price")).to_have_text(SALE)
        await expect(price).to_have_text(re.compile(rf"^was {re.escape(LIST)}\s+now {re.escape(SALE)}"))
        await expect(page.locator("#sale")).to_contain_text("Winter scarves")
        await expect(page.locator("#sale")).to_contain_text(ends.strftime("%Y-%m-%d"))
        await screenshot(page, platform, "product-sale")

        await page.goto("/search?q=lambswool+check+scarf")
        card = page.locator(".card", has_text="Lambswool Check Scarf").first
        await expect(card.locator("del.was")).to_have_text(f"was {LIST}")
        await expect(card.locator(".price .sale")).to_have_text(f"now {SALE}")
        await expect(card.locator(".badge.on-sale")).to_be_visible()
        await screenshot(page, platform, "search-sale")

        await page.goto("/c/accessories-scarves")
        card = page.locator(".card", has_text="Lambswool Check Scarf").first
        await expect(card.locator("del.was")).to_have_text(f"was {LIST}")
        await expect(card.locator(".badge.on-sale")).to_be_visible()  # listed from search: "Sale"

        await page.set_viewport_size({"width": 390, "height": 844})
        for path in (f"/p/{SLUG}", "/search?q=lambswool+check+scarf", "/c/accessories-scarves"):
            await page.goto(path)
            await expect(page.locator("del.was").first).to_be_visible()
            await _no_sideways_scroll(page)

        # the cart charges what the page shows, to the cent, with the list price struck through
        await page.goto(f"/p/{SLUG}")
        await page.get_by_role("button", name="Add to cart").click()
        await expect(page).to_have_url(re.compile(r"/cart$"))
        await expect(page.locator("main del.was").first).to_have_text(f"was {LIST}")
        await expect(page.locator("main .sale").first).to_have_text(SALE)
        await _no_sideways_scroll(page)
        await context.close()
    finally:
        etag = gateway.get(f"/admin/v1/promotions/{promotion['id']}", headers=staff).headers.get("etag")
        archived = gateway.patch(
            f"/admin/v1/promotions/{promotion['id']}",
            json={"active": False},
            headers=staff | ({"If-Match": etag} if etag else {}),
        )
        assert archived.status_code == 200, archived.text
    _until(lambda: _page_price(gateway) == 7900, "the list price to come back")
    _until(lambda: _hit(gateway)["compare_at_price"] is None, "search to drop the sale")
