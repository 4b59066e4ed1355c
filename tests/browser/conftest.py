"""A real browser: Debian's Chromium, driven by Playwright (its asyncio API, on pytest's event loop),
against the platform of tests/platforms.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"  # `make test` installs it (Debian's chromium package)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser, platform) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=platform.topology.storefront_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def screenshot(page: Page, platform, name: str) -> None:
    """Saved under docs/screenshots (the README shows them), from the SQLite platform's run."""
    if platform.topology.offset != 20000:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
