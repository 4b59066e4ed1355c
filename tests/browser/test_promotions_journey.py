"""Issue 16's journey in a real browser: a shopper applies two discount codes on the cart — one is
refused with the sentence orders gives, the other takes its share off the line — pays part with a gift
card staff issued in the back office's API and the rest with a 4242 card; the order page, the
confirmation e-mail (the SMTP sink) and the invoice PDF show the discount, the code and both payments.
A guest at desktop width, a signed-in shopper at 390 px; nothing scrolls sideways."""

from __future__ import annotations

import io
import re
import uuid

import httpx
from playwright.async_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot
from tests.browser.test_buying import CARD, _fill_checkout
from tests.browser.test_cart_codes import _codes
from tests.browser.test_guest_checkout import _new_page
from tests.browser.test_phone_widths import _fits
from tests.e2e.staff import signed_in_staff
from tests.e2e.test_checkout import _wait_for_mail


def _gift_card(platform, gateway: httpx.Client, *, amount: int) -> tuple[str, str]:
    """A gift card support issued (the code is shown once): (its code, its last four characters)."""
    _, staff = signed_in_staff(platform, gateway, "support")
    issued = gateway.post(
        "/admin/v1/gift-cards", json={"amount": {"amount": amount, "currency": "EUR"}}, headers=staff
    )
    assert issued.status_code == 201, issued.text
    return issued.json()["code"], issued.json()["last4"]


async def _pdf_text(page: Page, href: str) -> str:
    response = await page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(await response.body())).pages
    )


async def _journey(browser: Browser, platform, gateway: httpx.Client, shots, *, width: int) -> None:
    phone = width < 800
    good, big = _codes(platform, gateway)
    page = await _new_page(browser, platform, width=width)
    to = f"promo-{uuid.uuid4().hex[:8]}@example.com"
    email: str | None = to  # a guest at the desk gives it at checkout …
    if phone:  # … a shopper on the phone has an account
        await page.goto("/register")
        await page.get_by_label("Name").fill("Grace Hopper")
        await page.get_by_label("E-mail").fill(to)
        await page.get_by_label("Password").fill("correct horse battery staple")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_role("link", name="Orders")).to_be_visible()
        email = None

    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))

    # Two codes: the one the cart doesn't qualify for says why, in orders' words; the other applies.
    codes = page.locator("#codes")
    await codes.get_by_label("Discount code").fill(big.lower())  # as typed: case does not matter
    await codes.get_by_role("button", name="Apply").click()
    refused = page.locator(".code.refused")
    await expect(refused).to_contain_text(big)
    await expect(refused.locator(".code-reason")).to_contain_text(re.compile(r"Spend €1,000\.00 or more"))
    await codes.get_by_label("Discount code").fill(good)
    await codes.get_by_role("button", name="Apply").click()
    applied = page.locator(".code.applied")
    await expect(applied).to_contain_text(good)
    await expect(applied).to_contain_text("Applied: \u2212€")
    await expect(page.locator(".code.refused")).to_contain_text(big)  # still there, still saying why
    await expect(page.locator(".cart-line .line-total del.was")).to_be_visible()  # the price before
    await expect(page.locator(".cart-line .line-discount")).to_contain_text("discount")
    totals = page.locator("#cart-totals")
    await expect(totals).to_contain_text("Discount")
    await expect(totals).to_contain_text(f"Ten percent off ({good})")
    discount = (await page.locator("#cart-discount").inner_text()).removeprefix("\u2212")
    await _look(page, platform, "cart-codes", phone=phone, at="#codes", shots=shots)

    # A code that isn't one at all is not kept: the field says so.
    await codes.get_by_label("Discount code").fill("NOSUCHCODE")
    await codes.get_by_role("button", name="Apply").click()
    await expect(page.locator("#code-error")).to_be_visible()
    await expect(page.locator(".code")).to_have_count(2)

    # A gift card staff issued pays part; the page says what is left to pay by card.
    gift_code, last4 = _gift_card(platform, gateway, amount=1000)
    await page.goto("/checkout")
    await page.get_by_label(re.compile("Gift card code")).fill(gift_code.lower())
    await page.locator("#apply-gift-card").click()
    await expect(page.locator("#gift-cards")).to_contain_text(f"Gift card ••••{last4}")
    tenders = page.locator("#checkout-tenders")
    await expect(tenders).to_contain_text(f"Gift card ••••{last4}")
    await expect(tenders).to_contain_text("\u2212€10.00")
    total = await page.locator("#checkout-total").inner_text()
    by_card = await page.locator("#checkout-by-card").inner_text()
    assert _cents(by_card) == _cents(total) - 1000
    await expect(page.locator("#card-part")).to_contain_text(f"To pay by card: {by_card}")
    await expect(page.locator("#pay")).to_have_text(f"Pay {by_card} by card")
    await expect(page.locator("#checkout-totals")).to_contain_text(discount)
    await _fill_checkout(page, CARD, email=email, name="Grace Hopper")  # the gift card stays
    await expect(page.locator("#checkout-by-card")).to_have_text(by_card)
    await _look(page, platform, "checkout-gift-card", phone=phone, at="#gift-cards", shots=shots)
    await page.locator("#pay").click()
    await expect(page).to_have_url(re.compile(r"/orders/ord_[0-9A-Z]+"))
    await expect(page.locator("#thanks")).to_be_visible()
    order_totals = page.locator("#order-totals")
    await expect(order_totals).to_contain_text(f"Ten percent off ({good})")
    await expect(page.locator("#order-discount")).to_have_text(f"\u2212{discount}")
    payment = page.locator("#order-payment")
    await expect(payment).to_contain_text(f"Gift card ••••{last4}")
    await expect(payment).to_contain_text("€10.00")
    await expect(payment).to_contain_text("ending 4242")
    await expect(payment).to_contain_text(by_card)
    await expect(page.locator(".cart-line .line-discount")).to_contain_text("discount")
    await _look(page, platform, "order-promotions", phone=phone, at="#order-totals", shots=shots)
    number = (await page.locator("#order-number").inner_text()).removeprefix("Order ")

    # The e-mail and the invoice say it too.
    mail = _wait_for_mail(platform, to, "is confirmed", timeout=60)
    assert f"Your order {number}" in mail["subject"]
    for part in (mail["text"], mail["html"]):
        assert f"Ten percent off (code {good})" in part and discount in part
        assert f"Paid by gift card ••••{last4}" in part and "€10.00" in part and by_card in part
    assert big not in mail["text"]  # a refused code is not on the order
    invoice = await _pdf_text(page, await page.locator("#invoice-link").get_attribute("href"))
    assert f"Ten percent off (code {good})" in invoice
    assert f"Discount -{discount.removeprefix('€')} EUR" in invoice
    assert f"Paid by gift card ••••{last4}: 10.00 EUR." in invoice
    assert f"Paid by card (Visa ending 4242): {by_card.removeprefix('€')} EUR." in invoice
    await page.context.close()


def _cents(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


async def _look(page: Page, platform, name: str, *, phone: bool, at: str, shots) -> None:
    """Nothing scrolls sideways on a phone; the desktop's view of `at` goes to docs/screenshots, every
    page whole to the test's own directory (to look at)."""
    if phone:
        await _fits(page)
        await page.set_viewport_size({"width": 390, "height": 844})
    else:
        await page.locator(at).scroll_into_view_if_needed()
        await screenshot(page, platform, name)
    await page.screenshot(path=str(shots / f"{name}-{'phone' if phone else 'desktop'}.png"), full_page=True)


async def test_two_codes_one_refused_a_gift_card_and_a_card_at_desktop_width(
    browser: Browser, platform, gateway, tmp_path
):
    await _journey(browser, platform, gateway, tmp_path, width=1280)


async def test_two_codes_one_refused_a_gift_card_and_a_card_at_390_px(
    browser: Browser, platform, gateway, tmp_path
):
    await _journey(browser, platform, gateway, tmp_path, width=390)


async def test_gift_cards_that_cover_the_whole_order_need_no_card(browser: Browser, platform, gateway):
    """A code that doesn't exist is refused by the gift card field; one worth more than the order pays
    it all: the card's fields go, Pay says so, and the order is paid by the gift card alone."""
    gift_code, last4 = _gift_card(platform, gateway, amount=20000)
    page = await _new_page(browser, platform, width=1280)
    email = f"gift-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))
    await _fill_checkout(page, CARD, email=email, name="Grace Hopper")

    await page.get_by_label(re.compile("Gift card code")).fill("0000-0000-0000-0000")
    await page.locator("#apply-gift-card").click()
    await expect(page.locator("#gift-card-error")).to_have_text(
        "We don't know this gift card code. Please check it."
    )
    await expect(page.get_by_label("E-mail")).to_have_value(email)  # the form came back as typed

    await page.get_by_label(re.compile("Gift card code")).fill(gift_code)
    await page.locator("#apply-gift-card").click()
    total = await page.locator("#checkout-total").inner_text()
    await expect(page.locator("#no-card-needed")).to_be_visible()
    await expect(page.locator("#card-fieldset")).to_be_hidden()
    await expect(page.locator("#checkout-by-card")).to_have_text("€0.00")
    await expect(page.locator("#pay")).to_have_text(f"Pay {total} with gift card")
    await page.locator("#pay").click()

    await expect(page).to_have_url(re.compile(r"/orders/ord_[0-9A-Z]+\?t="))
    payment = page.locator("#order-payment")
    await expect(payment).to_contain_text(f"Gift card ••••{last4}")
    await expect(payment).to_contain_text(total)
    await expect(payment).not_to_contain_text("ending")  # no card
    await page.context.close()
