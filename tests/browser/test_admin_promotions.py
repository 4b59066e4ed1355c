"""Merchandising manages promotions in the back office, in a real browser: a code promotion created (an
API refusal shown next to its field first), 500 single-use codes generated while the progress bar fills,
their CSV downloaded; the form shows only the fields of the chosen action; nothing scrolls sideways at
390 px."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_admin import admin, sign_in_for_the_first_time  # noqa: F401 - the fixture
from tests.e2e.staff import create_staff


async def fits(page: Page, width: int = 390) -> None:
    """At a phone's width the page is no wider than the window (a wide table scrolls in its own box)."""
    await page.set_viewport_size({"width": width, "height": 844})
    scroll_width, inner_width = await page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url} at {width}px: the page is {scroll_width}px wide"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_the_promotion_form_shows_the_fields_of_the_chosen_action(admin: Page, platform):  # noqa: F811
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    await admin.goto("/promotions/new")
    form = admin.locator("#promotion-form")
    await expect(form.get_by_label("Percent off")).to_be_visible()
    await expect(form.get_by_label("Tiers")).to_be_hidden()
    await form.get_by_label("Action").select_option("tiered")
    await expect(form.get_by_label("Tiers")).to_be_visible()
    await expect(form.get_by_label("Percent off")).to_be_hidden()
    await form.get_by_label("Action").select_option("fixed")
    await expect(form.get_by_role("group", name="Amount off").get_by_label("EUR")).to_be_visible()
    await form.get_by_label("Trigger").select_option("sale")  # a sale: no cart conditions, limits or codes
    await expect(form.get_by_label("Minimum quantity")).to_be_hidden()
    await expect(form.get_by_label("Uses in total")).to_be_hidden()
    await expect(form.get_by_label("Codes (optional)", exact=True)).to_be_hidden()
    await expect(form.get_by_label("SKUs")).to_be_visible()
    await form.get_by_label("Trigger").select_option("code")
    await expect(form.get_by_label("Codes (optional)", exact=True)).to_be_visible()
    await fits(admin)


async def test_a_code_promotion_is_created_then_500_codes_are_generated_and_downloaded(admin: Page, platform):  # noqa: F811
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    await admin.get_by_role("navigation").get_by_role("link", name="Promotions").click()
    await admin.get_by_role("link", name="New promotion").click()
    name, code = f"Winter {uuid.uuid4().hex[:6]}", f"WINTER{uuid.uuid4().hex[:6].upper()}"
    form = admin.locator("#promotion-form")
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Trigger").select_option("code")
    await form.get_by_label("Percent off").fill("15")
    await form.get_by_role("group", name="Minimum subtotal").get_by_label("EUR").fill("20.00")
    await form.get_by_label("Uses in total").fill("1000")
    await form.get_by_label("Codes (optional)").fill(code.lower())
    # Only orders knows the window must close after it opens: its refusal shows next to the field.
    await form.get_by_label("Starts (UTC)").fill("2030-01-10T00:00")
    await form.get_by_label("Ends (UTC)").fill("2030-01-01T00:00")
    await form.get_by_role("button", name="Create promotion").click()
    await expect(admin.locator("#f-ends_at-error")).to_contain_text("after")
    await expect(form.get_by_label("Name")).to_have_value(name)  # what was typed is kept
    await form.get_by_label("Starts (UTC)").fill("")
    await form.get_by_label("Ends (UTC)").fill("")
    await form.get_by_role("button", name="Create promotion").click()
    await expect(admin.locator("#done")).to_contain_text("promotion is saved")
    await expect(form.get_by_label("Codes (optional)")).to_have_value(code)
    await expect(form.get_by_role("group", name="Minimum subtotal").get_by_label("EUR")).to_have_value(
        "20.00"
    )
    await screenshot(admin, platform, "admin-promotions")
    await fits(admin)

    batch = admin.locator("#code-batch")
    prefix = f"T{uuid.uuid4().hex[:4].upper()}"
    await batch.get_by_label("How many").fill("500")
    await batch.get_by_label("Prefix").fill(prefix)
    await batch.get_by_role("button", name="Generate codes").click()
    progress = admin.get_by_role("progressbar")
    await expect(progress).to_have_attribute("max", "500")
    await expect(admin.locator("#batch-status")).to_contain_text("All 500 codes are ready", timeout=60_000)
    await expect(progress).to_have_attribute("value", "500")
    await fits(admin)
    async with admin.expect_download() as download:
        await admin.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(await (await download.value).path()).read_text())))
    codes = {row["code"] for row in rows}
    assert len(rows) == 500 and len(codes) == 500
    assert all(c.startswith(prefix) for c in codes) and {row["used"] for row in rows} == {"0"}

    await admin.get_by_role("navigation").get_by_role("link", name="Promotions").click()
    row = admin.locator("#promotions tbody tr", has_text=name)
    await expect(row).to_contain_text("15% off")
    await expect(row).to_contain_text("Live")
    await expect(row).to_contain_text("0 / 1000")
    await expect(row).to_contain_text("Combines")
    await fits(admin)

    # Edited: 20 % off, exclusive; the list says so.
    await row.get_by_role("link", name=name).click()
    await form.get_by_label("Percent off").fill("20")
    await form.get_by_label("Combines with other promotions").uncheck()
    await form.get_by_role("button", name="Save changes").click()
    await expect(admin.locator("#done")).to_contain_text("changes are saved")
    await admin.get_by_role("link", name="← Promotions").click()
    row = admin.locator("#promotions tbody tr", has_text=name)
    await expect(row).to_contain_text("20% off")
    await expect(row).to_contain_text("Exclusive")
