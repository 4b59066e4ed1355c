"""Support issues a gift card in the back office, in a real browser: the code is shown once (with a way to
copy it), works at the shop's balance check, the card is found again by its last four, its ledger says
it was issued, and disabling it stops it; at 390 px nothing scrolls sideways."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.test_admin import admin, sign_in_for_the_first_time  # noqa: F401 - the fixture
from tests.browser.test_admin_promotions import fits
from tests.e2e.staff import create_staff


async def test_gift_cards_are_in_the_menu_of_support_and_issuing_needs_an_amount(admin: Page, platform):  # noqa: F811
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("support",)))
    await admin.get_by_role("navigation").get_by_role("link", name="Gift cards").click()
    await expect(admin.get_by_role("heading", name="Issue a gift card")).to_be_visible()
    await expect(admin.get_by_role("navigation").get_by_role("link", name="Promotions")).to_have_count(0)
    issue = admin.locator("#issue")
    await issue.get_by_label("Amount").fill("fifty")
    await issue.get_by_role("button", name="Issue gift card").click()
    await expect(issue.locator("#f-amount-error")).to_contain_text("Enter an amount like 50.00")
    await fits(admin)
