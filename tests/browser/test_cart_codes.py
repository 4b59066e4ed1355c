"""Discount codes on the cart through the whole platform: codes merchandising made in the back office's
API, entered by a guest with JavaScript off (the codes block is plain forms): one applies and takes its
share off the line, one is refused with the sentence orders gives, a code that does not exist is not
kept and the field says so; each comes off with its Remove button."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Browser, expect

from tests.e2e.staff import signed_in_staff


def _promotion(gateway: httpx.Client, staff: dict[str, str], *, name: str, code: str, **rules) -> None:
    body = {"name": name, "trigger": "code", "codes": [code], "combines": True, **rules}
    created = gateway.post("/admin/v1/promotions", json=body, headers=staff)
    assert created.status_code == 201, created.text


def _codes(platform, gateway: httpx.Client) -> tuple[str, str]:
    """(a code for 10 % off, a code that needs €1,000 in the cart), new for this run."""
    _, staff = signed_in_staff(platform, gateway, "merchandising")
    suffix = uuid.uuid4().hex[:6].upper()
    good, big = f"TEN{suffix}", f"BIG{suffix}"
    _promotion(
        gateway, staff, name="Ten percent off", code=good, action={"type": "percentage", "percent": "10"}
    )
    _promotion(
        gateway,
        staff,
        name="Big spender",
        code=big,
        conditions={"min_subtotal": {"EUR": 100000}},
        action={"type": "percentage", "percent": "20"},
    )
    return good, big


async def test_codes_apply_refuse_and_come_off_without_javascript(browser: Browser, platform, gateway):
    """The codes block is plain forms: a guest with JavaScript off applies, is refused and removes."""
    good, big = _codes(platform, gateway)
    context = await browser.new_context(
        base_url=platform.topology.storefront_url,
        viewport={"width": 390, "height": 844},
        java_script_enabled=False,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))
    total = await page.locator("#cart-total").inner_text()

    codes = page.locator("#codes")
    for code in (good, big):
        await codes.get_by_label("Discount code").fill(code)
        await codes.get_by_role("button", name="Apply").click()
    await expect(page.locator(".code.applied")).to_contain_text(good)
    await expect(page.locator(".code.refused .code-reason")).to_contain_text(big)
    await expect(page.locator("#cart-discount")).to_be_visible()
    assert await page.locator("#cart-total").inner_text() != total

    await codes.get_by_label("Discount code").fill("NO-SUCH-CODE")
    await codes.get_by_role("button", name="Apply").click()
    await expect(page.locator("#code-error")).to_contain_text("NO-SUCH-CODE")
    await expect(codes.get_by_label("Discount code")).to_have_value("NO-SUCH-CODE")  # kept as typed

    await page.get_by_role("button", name=f"Remove the code {good}").click()
    await expect(page.locator(".code.applied")).to_have_count(0)
    await expect(page.locator("#cart-discount")).to_have_count(0)
    await expect(page.locator("#cart-total")).to_have_text(total)
    await page.get_by_role("button", name=f"Remove the code {big}").click()
    await expect(page.locator(".code")).to_have_count(0)
    await context.close()
