"""Orders as shoppers and staff see them, in a real browser: an order goes by its short number (M-10042)
in the shop and the back office, which finds it by that number; a shipped order names its carrier and
links its tracking page in the back office, the shipping e-mail and the shop (desktop and phone widths)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, expect

from mercato.platform.ids import new_id
from tests.browser.conftest import screenshot
from tests.browser.test_admin import ADDRESS, _shopper_order, _wait_for_mail, sign_in_for_the_first_time
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


def _number_of(platform, order_id: str) -> str:
    staff = platform.staff_headers("support")
    order = httpx.get(f"{platform.service_url('orders')}/admin/v1/orders/{order_id}", headers=staff).json()
    assert re.fullmatch(r"M-[1-9][0-9]{4,}", order["number"]), order
    return order["number"]


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


async def test_an_order_goes_by_its_number_and_once_shipped_links_its_tracking_page_everywhere(
    admin: Page, page: Page, platform, gateway
):
    order_id, email = _shopper_order(platform, gateway)
    number = _number_of(platform, order_id)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))
    await admin.goto("/orders")
    await admin.get_by_label("Order number or id, or customer id").fill(number.lower().replace("-", ""))
    await admin.get_by_role("button", name="Filter").click()
    await expect(admin.locator("tbody tr")).to_have_count(1)
    await admin.get_by_role("link", name=number, exact=True).click()
    await expect(admin.get_by_role("heading", level=1)).to_contain_text(f"Order {number}")
    await expect(admin.locator("#order-id")).to_have_text(order_id)
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
    await page.goto("/orders")
    await page.get_by_role("link", name=number, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
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
    await page.goto("/orders")
    await expect(page.get_by_role("link", name=number, exact=True)).to_be_visible()
    await assert_no_sideways_scroll(page)


def _declined_checkout(platform, gateway) -> str:
    """A checkout whose card is declined: a `failed` order, never placed. Returns its id."""
    customer_id = new_id("cus")
    auth = platform.token_for(customer_id)
    sku = gateway.get("/api/v1/products/boxy-organic-tee").json()["variants"][2]["sku"]
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    declined = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card("4000000000000002")},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert declined.status_code == 402, declined.text
    staff = platform.staff_headers("support")
    [failed] = httpx.get(
        f"{platform.service_url('orders')}/admin/v1/orders",
        params={"customer_id": customer_id, "state": "failed"},
        headers=staff,
    ).json()["data"]
    return failed["id"]


async def test_the_orders_list_names_the_customers_and_hides_failed_checkouts_unless_asked(
    admin: Page, platform, gateway
):
    order_id, email = _shopper_order(platform, gateway)
    failed_id = _declined_checkout(platform, gateway)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))

    await admin.goto("/orders")
    row = admin.locator("tbody tr", has=admin.locator(f"a[href='/orders/{order_id}']"))
    await expect(row.locator("td.customer")).to_contain_text("Grace")
    await expect(row.locator("td.customer")).to_contain_text(email)
    await expect(admin.locator(f"a[href='/orders/{failed_id}']")).to_have_count(0)
    await expect(admin.locator("#state-hint")).to_contain_text("failed checkouts")
    await screenshot(admin, platform, "admin-orders")
    await admin.set_viewport_size({"width": 390, "height": 844})
    await assert_no_sideways_scroll(admin)
    await admin.set_viewport_size({"width": 1280, "height": 900})

    await admin.locator(f"main a[href='/orders/{order_id}']").click()
    await expect(admin.locator("#customer")).to_contain_text("Grace")
    await expect(admin.locator("#customer")).to_contain_text(email)
    await admin.set_viewport_size({"width": 390, "height": 844})
    await assert_no_sideways_scroll(admin)
    await admin.set_viewport_size({"width": 1280, "height": 900})

    await admin.goto("/orders")
    await admin.get_by_label("Failed checkouts").check()
    await admin.get_by_role("button", name="Filter").click()
    failed = admin.locator("tbody tr", has=admin.locator(f"a[href='/orders/{failed_id}']"))
    await expect(failed).to_contain_text("not placed")
    await expect(admin.locator(f"a[href='/orders/{order_id}']")).to_have_count(0)
