"""A forgotten password in a real browser: "Forgot password?" on the sign-in page, the link from the
e-mail (read from the SMTP sink), a new password, then signing in with it."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect

from tests.browser.test_account_security import PASSWORD, _register, _shot
from tests.e2e.test_password_reset import reset_link, wait_for_mail

NEW_PASSWORD = "a brand new passphrase"


async def test_forgot_password_reset_from_the_e_mail_then_sign_in(page: Page, platform):
    email = await _register(page)
    await page.get_by_role("button", name="Log out").click()

    await page.goto("/login")
    await page.get_by_role("link", name="Forgot password?").click()
    await page.get_by_label("E-mail").fill(email)
    await _shot(page, "forgot-password")
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("status")).to_contain_text(email)

    link = reset_link(await _mail(platform, email))
    await page.goto(link)
    await page.get_by_label("New password").fill("short")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.locator(".field-error")).to_contain_text("at least 10 characters")
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _shot(page, "reset-password-phone")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_role("status")).to_contain_text("Sign in with your new password")

    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("don't match")  # the old one is gone
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Account")).to_be_visible()

    await page.goto(link)  # the link worked once
    await page.get_by_label("New password").fill("yet another passphrase")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_role("heading", name=re.compile("expired"))).to_be_visible()


async def _mail(platform, email: str) -> dict:
    return await asyncio.to_thread(wait_for_mail, platform, email, "Reset your")
