"""Invoices through the whole platform, in a real browser: the confirmation e-mail carries the PDF; the
shop's order page (an account's, and a guest's opened by its link) and the back office's link it, and
what they open is the PDF with the order's invoice number — at desktop and phone widths."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot
from tests.browser.test_admin import ADDRESS, _shopper_order, _wait_for_mail, sign_in_for_the_first_time
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


async def test_a_guest_opens_the_invoice_from_the_orders_link(page: Page, platform, gateway):
    cart = {"X-Cart-Token": gateway.post("/api/v1/carts").json()["cart_token"]}
    sku = gateway.get("/api/v1/products/boxy-organic-tee").json()["variants"][2]["sku"]
    platform.set_stock(sku, 5)
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=cart).status_code == 200
    placed = gateway.post(
        "/api/v1/checkout",
        json={
            "shipping_address": ADDRESS,
            "email": "ada-guest@example.com",
            "payment_method": platform.card(),
        },
        headers=cart | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    link = urlsplit(order["order_url"])

    await page.goto(f"{link.path}?{link.query}")
    invoice = page.locator("#invoice-link")
    await expect(invoice).to_have_text(f"Invoice {order['invoice_number']}")
    text = await _pdf_text(page, await invoice.get_attribute("href"))
    assert f"Number: {order['invoice_number']}" in text and "ada-guest@example.com" in text
    response = await page.request.get(f"/orders/{order['id']}/invoice?t=not-the-token")
    assert response.status == 404  # a wrong link opens nothing
