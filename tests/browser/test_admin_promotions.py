"""Merchandising manages promotions in the back office, in a real browser: a code promotion created (an
API refusal shown next to its field first), 500 single-use codes generated while the progress bar fills,
their CSV downloaded; the form shows only the fields of the chosen action; nothing scrolls sideways at
390 px."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.test_admin import admin, sign_in_for_the_first_time  # noqa: F401 - the fixture
from tests.e2e.staff import create_staff


async def fits(page: Page, width: int = 390) -> None:
    """At a phone's width the page is no wider than the window (a wide table scrolls in its own box)."""
    await page.set_viewport_size({"width": width, "height": 844})
    scroll_width, inner_width = await page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url} at {width}px: the page is {scroll_width}px wide"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_the_promotion_form_shows_the_fields_of_the_chosen_action(admin: Page, platform):  # noqa: F811
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    await admin.goto("/promotions/new")
    form = admin.locator("#promotion-form")
    await expect(form.get_by_label("Percent off")).to_be_visible()
    await expect(form.get_by_label("Tiers")).to_be_hidden()
    await form.get_by_label("Action").select_option("tiered")
    await expect(form.get_by_label("Tiers")).to_be_visible()
    await expect(form.get_by_label("Percent off")).to_be_hidden()
    await form.get_by_label("Action").select_option("fixed")
    await expect(form.get_by_role("group", name="Amount off").get_by_label("EUR")).to_be_visible()
    await form.get_by_label("Trigger").select_option("sale")  # a sale: no cart conditions, limits or codes
    await expect(form.get_by_label("Minimum quantity")).to_be_hidden()
    await expect(form.get_by_label("Uses in total")).to_be_hidden()
    await expect(form.get_by_label("Codes (optional)", exact=True)).to_be_hidden()
    await expect(form.get_by_label("SKUs")).to_be_visible()
    await form.get_by_label("Trigger").select_option("code")
    await expect(form.get_by_label("Codes (optional)", exact=True)).to_be_visible()
    await fits(admin)
