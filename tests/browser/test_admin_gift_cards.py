"""Support issues a gift card in the back office, in a real browser: the code is shown once (with a way to
copy it) and works at the shop's balance check; the card is found again by its last four, its ledger says
it was issued, and disabling it stops it; at 390 px nothing scrolls sideways."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
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


async def test_a_card_issued_once_works_at_the_shop_is_found_by_last4_and_disabled(
    admin: Page,  # noqa: F811
    platform,
    gateway,
):
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("support",)))
    await admin.goto("/gift-cards")
    issue = admin.locator("#issue")
    await issue.get_by_label("Amount").fill("50.00")
    await issue.get_by_label("Currency").select_option("EUR")
    await issue.get_by_label("Note").fill("Goodwill for a late parcel")
    await issue.get_by_label("Expires").fill("2031-06-30")
    await issue.get_by_role("button", name="Issue gift card").click()
    issued = admin.locator("#issued")
    await expect(issued).to_contain_text("shown only this once")
    code = (await admin.locator("#issued-code").inner_text()).strip()
    assert len(code) == 19 and code.count("-") == 3, code
    await expect(issued.get_by_role("button", name="Copy code")).to_be_visible()
    await screenshot(admin, platform, "admin-gift-card-issued")
    await fits(admin)

    balance = gateway.get(f"/api/v1/gift-cards/{code}")
    assert balance.status_code == 200, balance.text
    assert balance.json()["balance"] == {"amount": 5000, "currency": "EUR"}
    assert balance.json()["state"] == "active" and balance.json()["last4"] == code[-4:]

    await admin.goto("/gift-cards")  # the code is not shown again
    await expect(admin.locator("#issued")).to_have_count(0)
    await admin.get_by_label("Last four characters").fill(code[-4:].lower())
    await admin.get_by_role("button", name="Find").click()
    await admin.locator("#found").get_by_role("link", name=f"…{code[-4:]}").first.click()
    await expect(admin.locator("#card-balance")).to_have_text("€50.00")
    await expect(admin.locator("main")).to_contain_text("expires 2031-06-30 23:59")
    await expect(admin.locator("main")).to_contain_text("Goodwill for a late parcel")
    await expect(admin.locator("#ledger tbody tr")).to_have_count(1)
    await expect(admin.locator("#ledger tbody tr")).to_contain_text("Issued")
    await expect(admin.locator("#ledger tbody tr")).to_contain_text("+€50.00")
    assert code not in await admin.content()
    await fits(admin)

    await admin.get_by_role("button", name="Disable gift card").click()
    await expect(admin.locator("#done")).to_contain_text("disabled")
    await expect(admin.locator("#card-state")).to_have_text("Disabled")
    assert gateway.get(f"/api/v1/gift-cards/{code}").json()["state"] == "disabled"
