"""Orders as shoppers and staff see them, in a real browser: a shipped order names its carrier and links
its tracking page in the back office, the shipping e-mail and the shop (at desktop and phone widths)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_admin import _shopper_order, _wait_for_mail, sign_in_for_the_first_time
from tests.e2e.staff import create_staff

SHOPPER_PASSWORD = "correct horse battery"  # _shopper_order's
FEDEX = "https://www.fedex.com/fedextrack/?trknbr=794600001234"


@pytest.fixture
async def admin(browser, platform) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=platform.topology.admin_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def shopper_signs_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(SHOPPER_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Orders")).to_be_visible()


async def assert_no_sideways_scroll(page: Page) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    culprits = await page.evaluate(
        """[...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
             .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 40))"""
    )
    assert wide <= 0, f"the page scrolls {wide}px sideways: {culprits[:8]}"


async def test_a_shipped_order_names_its_carrier_and_links_its_tracking_page_everywhere(
    admin: Page, page: Page, platform, gateway
):
    order_id, email = _shopper_order(platform, gateway)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))
    await admin.goto(f"/orders/{order_id}")
    await admin.get_by_role("button", name="Start processing").click()
    await expect(admin.locator("#order-state")).to_have_text("Processing")
    carriers = [text.strip() for text in await admin.locator("#f-carrier option").all_inner_texts()]
    assert {"DHL", "DPD", "UPS", "FedEx", "GLS", "PostNL", "Royal Mail", "USPS"} <= set(carriers)
    assert not {"Dhl", "Fedex", "Postnl", "Ups"} & set(carriers)
    await admin.get_by_label("Carrier").select_option(label="FedEx")
    await admin.get_by_label("Tracking number").fill("794600001234")
    await admin.get_by_role("button", name="Mark shipped").click()
    await expect(admin.locator("#order-state")).to_have_text("Shipped")
    await expect(admin.locator(f"a[href='{FEDEX}'] #tracking")).to_have_text("794600001234")

    shipped = _wait_for_mail(platform, email, "on its way")
    assert "Carrier: FedEx" in shipped["text"] and f"Track your parcel: {FEDEX}" in shipped["text"]
    assert f'href="{FEDEX}"' in shipped["html"]

    await shopper_signs_in(page, email)
    await page.goto(f"/orders/{order_id}")
    shipment = page.locator("#shipment")
    await expect(shipment).to_contain_text("Shipped with FedEx")
    await expect(page.locator("#tracking-number")).to_have_text("794600001234")
    track = page.get_by_role("link", name="Track your parcel with FedEx")
    await expect(track).to_have_attribute("href", FEDEX)
    await screenshot(page, platform, "order-shipped")
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(track).to_be_visible()
    await screenshot(page, platform, "order-shipped-phone")
    await assert_no_sideways_scroll(page)
    await expect(page).to_have_url(re.compile(rf"/orders/{order_id}$"))
