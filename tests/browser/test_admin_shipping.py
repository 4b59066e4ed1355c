"""Merchandising manages shipping in the back office, in a real browser: a zone limited to postal codes,
a method of it, deactivated again; the tax rates are there to read."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_admin import admin, sign_in_for_the_first_time  # noqa: F401 - the fixture
from tests.e2e.staff import create_staff


async def test_merchandising_adds_a_zone_and_a_method_then_deactivates_it(admin: Page, platform):  # noqa: F811
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    await admin.get_by_role("navigation").get_by_role("link", name="Shipping").click()
    await expect(admin.locator("#zones")).to_contain_text("European Union")
    await expect(admin.locator("#methods")).to_contain_text("Click & collect at Mercato Berlin")

    zone = f"Highlands {uuid.uuid4().hex[:6]}"
    new_zone = admin.locator("#new-zone")
    await new_zone.get_by_label("Name").fill(zone)
    await new_zone.get_by_label("Countries").fill("GB")
    await new_zone.get_by_label("Postal codes").fill("IV* KW*")
    await new_zone.get_by_role("button", name="Add zone").click()
    await expect(admin.locator("#done")).to_contain_text("zone is saved")
    await expect(admin.locator("#zones")).to_contain_text("IV*, KW*")

    new_method = admin.locator("#new-method")
    await new_method.get_by_label("Zone").select_option(label=zone)
    await new_method.get_by_label("Name").fill("Highland courier")
    await new_method.get_by_label("Currency").select_option("GBP")
    await new_method.get_by_label("Rate").select_option("weight")
    await new_method.get_by_label("Bands").fill("2000 9.95\n* 19.95")
    await new_method.get_by_label("Min. days").fill("3")
    await new_method.get_by_label("Max. days").fill("6")
    await new_method.get_by_role("button", name="Add method").click()
    await expect(admin.locator("#done")).to_contain_text("method is saved")
    row = admin.locator("#methods tbody tr", has_text="Highland courier")
    await expect(row).to_contain_text("≤ 2000 g: £9.95")
    await expect(row).to_contain_text("Active")
    await screenshot(admin, platform, "admin-shipping")

    await row.get_by_text("Edit").click()
    await row.get_by_label("Active").uncheck()
    await row.get_by_role("button", name="Save").click()
    await expect(admin.locator("#methods tbody tr", has_text="Highland courier")).to_contain_text("Inactive")
    await admin.locator("#tax-rates summary").click()
    await expect(admin.locator("#tax-rates")).to_contain_text("25.5%")
