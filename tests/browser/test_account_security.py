"""Account security in a real browser: changing the password keeps this browser signed in, and "Sign
out everywhere" ends every session, this browser's too."""

from __future__ import annotations

import os
import re
import uuid

from playwright.async_api import Page, expect

PASSWORD = "correct horse battery staple"
SHOTS = os.environ.get("MERCATO_TEST_SHOTS")  # a directory: also save screenshots there (desktop, phone)


async def _shot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


async def _register(page: Page) -> str:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto("/register")
    await page.get_by_label("Name").fill("Ada Lovelace")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("link", name="Orders")).to_be_visible()
    return email


async def test_change_the_password_then_sign_out_everywhere(page: Page, platform):
    await _register(page)
    await page.goto("/account#security")
    await _shot(page, "account-security")
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password").fill("a brand new passphrase")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    await page.goto("/account#security")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _shot(page, "account-security-phone")

    await page.get_by_role("button", name="Sign out everywhere").click()
    await expect(page.get_by_role("heading", name="You're signed out everywhere")).to_be_visible()
    await page.goto("/account")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount"))
