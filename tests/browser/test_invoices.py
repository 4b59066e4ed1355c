"""Invoices through the whole platform, in a real browser: the confirmation e-mail carries the PDF; the
shop's order page and the back office's link it (and later the credit note of a refund), and what they
open is the PDF with the order's invoice number — at desktop and phone widths."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot
from tests.browser.test_admin import _shopper_order, _wait_for_mail, sign_in_for_the_first_time
from tests.browser.test_orders_seen import assert_no_sideways_scroll, shopper_signs_in
from tests.e2e.staff import create_staff


@pytest.fixture
async def admin(browser, platform) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=platform.topology.admin_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def _pdf_text(page: Page, href: str) -> str:
    """What the link opens, as a PDF reader reads it (with the page's own session cookies)."""
    response = await page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(await response.body())).pages
    return " ".join(" ".join(p.extract_text().split()) for p in pages)


async def test_the_invoice_is_mailed_and_linked_in_the_shop_and_the_back_office(
    admin: Page, page: Page, platform, gateway
):
    order_id, email = _shopper_order(platform, gateway)
    confirmation = _wait_for_mail(platform, email, "is confirmed")
    [attachment] = confirmation["attachments"]
    assert attachment["content_type"] == "application/pdf" and attachment["filename"].endswith(".pdf")
    number = attachment["filename"].removesuffix(".pdf")

    await shopper_signs_in(page, email)
    await page.goto(f"/orders/{order_id}")
    link = page.locator("#invoice-link")
    await expect(link).to_have_text(f"Invoice {number}")
    text = await _pdf_text(page, await link.get_attribute("href"))
    assert f"Number: {number}" in text and "Grace" in text
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(link).to_be_visible()
    await assert_no_sideways_scroll(page)
    await screenshot(page, platform, "order-invoice-phone")

    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))
    await admin.goto(f"/orders/{order_id}")
    await expect(admin.locator("#invoice-link")).to_have_text(f"Invoice {number}")
    assert f"Number: {number}" in await _pdf_text(
        admin, await admin.locator("#invoice-link").get_attribute("href")
    )
