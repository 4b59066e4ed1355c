"""A guest buys in a real browser without an account — a declined card first, then a good one — gets
the confirmation e-mail with the invoice (the SMTP sink), opens the order by the e-mail's link in another
browser; later registers with the same address, opens the e-mailed claim link and finds the order in the
history. At desktop width and at 390 px (nothing scrolls sideways). The cart token is an HttpOnly cookie."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_admin import sign_in_for_the_first_time
from tests.browser.test_buying import CARD, DECLINED, _fill_checkout
from tests.browser.test_phone_widths import _fits
from tests.e2e.staff import create_staff
from tests.e2e.test_checkout import _wait_for_mail


async def _new_page(browser: Browser, platform, *, width: int) -> Page:
    context = await browser.new_context(
        base_url=platform.topology.storefront_url,
        viewport={"width": width, "height": 844 if width < 800 else 900},
        is_mobile=width < 800,
        has_touch=width < 800,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def _journey(browser: Browser, platform, *, width: int) -> None:
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    phone = width < 800
    page = await _new_page(browser, platform, width=width)

    # Adding to the cart needs no account; the cart's token is an HttpOnly cookie.
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))
    await expect(page.locator(".cart-line")).to_have_count(1)
    cart_cookie = next(c for c in await page.context.cookies() if c["name"] == "mercato_cart")
    assert cart_cookie["httpOnly"]
    await expect(page.get_by_role("link", name="Log in")).to_be_visible()  # still a guest

    await _fill_checkout(page, DECLINED, email=email, name="Grace Hopper")
    await page.locator("#pay").click()
    await expect(page.get_by_role("alert").first).to_contain_text("declined")
    await expect(page.get_by_label("E-mail")).to_have_value(email)  # the form comes back as sent
    if phone:
        await _fits(page)
        await screenshot(page, platform, "guest-checkout-phone")
    else:
        await screenshot(page, platform, "guest-checkout")

    await _fill_checkout(page, CARD, email=email, name="Grace Hopper")
    await page.locator("#pay").click()
    await expect(page).to_have_url(re.compile(r"/orders/ord_[0-9A-Z]+\?t="))
    await expect(page.locator("#thanks")).to_be_visible()
    await expect(page.locator("#order-link-note")).to_contain_text(email)
    number = (await page.locator("#order-number").inner_text()).removeprefix("Order ")
    if phone:
        await _fits(page)

    # The confirmation goes to the guest's address and links the order's signed page…
    mail = _wait_for_mail(platform, email, "is confirmed", timeout=60)
    assert mail["subject"] == f"Your order {number} is confirmed"
    assert [a["content_type"] for a in mail["attachments"]] == ["application/pdf"]  # the invoice
    link = next(word for word in mail["text"].split() if "/orders/ord_" in word)
    # …which opens in another browser, with no cookie at all.
    elsewhere = await _new_page(browser, platform, width=width)
    await elsewhere.goto(link)
    await expect(elsewhere.locator("#order-number")).to_have_text(f"Order {number}")
    await expect(elsewhere.locator("main")).to_contain_text("T-Shirt")
    if phone:
        await _fits(elsewhere)
        await screenshot(elsewhere, platform, "guest-order-link-phone")
    else:
        await screenshot(elsewhere, platform, "guest-order-link")
    await elsewhere.goto(link[:-4] + "AAAA")  # a forged link shows nothing
    await expect(elsewhere.locator("main")).not_to_contain_text("T-Shirt")
    await elsewhere.context.close()

    # Later the guest registers with the same address, and claims the order by the e-mailed link.
    await page.goto("/register")
    await page.get_by_label("Name").fill("Grace Hopper")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill("correct horse battery staple")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("link", name="Orders")).to_be_visible()
    await page.goto("/orders")
    await expect(page.locator("main a[href^='/orders/ord_']")).to_have_count(0)  # not before the link
    claim = _wait_for_mail(platform, email, "Add your earlier order")
    claim_link = next(word for word in claim["text"].split() if "/account/claim-orders?t=" in word)
    await page.goto(claim_link)
    if phone:
        await _fits(page)
    await page.get_by_role("button", name="Add them to my account").click()
    await expect(page).to_have_url(re.compile(r"/orders$"))
    await expect(page.locator("main a[href^='/orders/ord_']")).to_have_count(1)
    await expect(page.locator("main")).to_contain_text(number)
    if phone:
        await _fits(page)
        await screenshot(page, platform, "guest-claimed-phone")
    else:
        await screenshot(page, platform, "guest-claimed")
    await page.context.close()


async def test_a_guest_buys_and_later_claims_the_order_at_desktop_width(browser: Browser, platform):
    await _journey(browser, platform, width=1280)


async def test_a_guest_buys_and_later_claims_the_order_at_390_px(browser: Browser, platform):
    await _journey(browser, platform, width=390)


async def test_the_item_added_before_signing_in_is_in_the_accounts_cart(browser: Browser, platform, gateway):
    email = f"merge-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Merge"}
    )
    page = await _new_page(browser, platform, width=1280)
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page.locator(".cart-line")).to_have_count(1)

    await page.goto("/login?next=/cart")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()

    await expect(page).to_have_url(re.compile(r"/cart$"))
    await expect(page.locator(".cart-line")).to_have_count(1)
    assert "mercato_cart" not in {c["name"] for c in await page.context.cookies()}  # merged: gone
    await page.context.close()


async def test_support_finds_a_guest_by_e_mail_exports_and_erases_them(browser: Browser, platform, gateway):
    email = f"support-{uuid.uuid4().hex[:8]}@example.com"
    guest = gateway.post("/api/v1/carts").json()["cart_token"]
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers={"X-Cart-Token": guest})
    address = {
        "name": "Grace Hopper",
        "line1": "1 Main St",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    placed = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": address, "payment_method": platform.card(), "email": email},
        headers={"X-Cart-Token": guest, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]

    context = await browser.new_context(
        base_url=platform.topology.admin_url, viewport={"width": 1280, "height": 900}
    )
    admin = await context.new_page()
    admin.set_default_timeout(15_000)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("support",)))
    await admin.goto("/customers")
    await admin.get_by_role("textbox", name="Guest by e-mail").fill(email.upper())
    await admin.get_by_role("button", name="Find guest").click()
    await expect(admin.locator("main")).to_contain_text(number)
    await screenshot(admin, platform, "admin-guest")
    async with admin.expect_download() as download:
        await admin.get_by_role("button", name="Export their data").click()
    exported = json.loads(Path(await (await download.value).path()).read_text())
    assert exported["guest"]["orders"][0]["number"] == number
    assert exported["guest"]["orders"][0]["shipping_address"]["name"] == "Grace Hopper"

    await admin.get_by_label("Type ERASE to confirm").fill("ERASE")
    await admin.get_by_role("button", name="Erase personal data").click()
    await expect(admin.locator("#erased")).to_contain_text("1 order")
    await expect(admin.locator("main")).not_to_contain_text(number)  # no guest order of the address now
    await context.close()
