"""With the search service stopped, the shop still sells: home, category and product pages render from
the catalog, and search itself says plainly that it is unavailable."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from mercato.topology import Topology
from tests.platforms import Platform, platform_env, start_platform, stop_platform

OFFSET = 11000  # see PORT_OFFSETS in tests/platforms.py


@pytest.fixture(scope="module")
def shop_without_search(tmp_path_factory) -> Iterator[Platform]:
    """The whole platform on SQLite, except search, which never starts (the gateway answers 503 for it)."""
    var_dir = tmp_path_factory.mktemp("platform-without-search")
    topology = Topology(offset=OFFSET)
    platform = start_platform(var_dir, topology, platform_env(var_dir, topology), "--without", "search")
    try:
        assert httpx.get(f"{platform.gateway}/api/v1/search").status_code == 503
        yield platform
    finally:
        stop_platform(platform)


@pytest.fixture
async def shop(browser, shop_without_search) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=shop_without_search.topology.storefront_url)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def test_home_category_and_product_pages_render_while_search_is_stopped(shop: Page):
    home = await shop.goto("/")
    assert home.status == 200
    await expect(shop.locator("main a[href^='/p/']").first).to_be_visible()

    category = await shop.goto("/c/women-tshirts")
    assert category.status == 200
    await expect(shop.locator("h1")).to_contain_text("T-Shirts")
    await expect(shop.locator("main a[href^='/p/']").first).to_be_visible()

    await shop.locator("main a[href^='/p/']").first.click()
    await expect(shop).to_have_url(re.compile(r"/p/"))
    await expect(shop.locator("h1")).to_be_visible()
    await expect(shop.get_by_role("button", name="Add to cart")).to_be_visible()

    search = await shop.goto("/search?q=shirt")
    assert search.status == 503
    await expect(shop.locator("main")).to_contain_text("search is unavailable right now")
