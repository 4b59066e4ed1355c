"""The checkout form says what it needs and keeps what was typed: required fields marked, a country
picked by name (posted as its ISO code), plain messages, and after a refusal every field and the
"save to my address book" tick as they were."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.test_buying import CARD, DECLINED, _register

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "line2": "Flat 3",
    "postal_code": "10115",
    "city": "Berlin",
}


async def _to_checkout(page: Page) -> None:
    await _register(page)
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart$"))
    await page.goto("/checkout")


async def _card(page: Page, number: str) -> None:
    await page.get_by_label("Card number").fill(number)
    await page.get_by_label("Month (MM)").fill("12")
    await page.get_by_label("Year (YYYY)").fill("2030")
    await page.get_by_label("CVC").fill("123")
    await page.locator("#pay").click()


async def _no_raw_validator_text(page: Page) -> None:
    text = await page.locator("main").inner_text()
    assert "String should" not in text and "pattern" not in text and "Field required" not in text, text


async def test_required_fields_are_marked_and_the_country_is_picked_by_name(page: Page):
    await _to_checkout(page)
    for field in ("name", "line1", "postal_code", "city", "country"):
        await expect(page.locator(f"#f-{field}")).to_have_attribute("required", "")
        await expect(page.locator(f"label[for='f-{field}']")).not_to_contain_text("optional")
        await expect(page.locator(f"label[for='f-{field}'] .required")).to_have_text("*")
    await expect(page.locator("#f-line2")).not_to_have_attribute("required", "")
    await expect(page.locator("label[for='f-line2']")).to_contain_text("(optional)")

    country = page.get_by_label("Country")
    assert await country.evaluate("element => element.tagName") == "SELECT"
    await expect(country.locator("option[value='DE']")).to_have_text("Germany")
    assert await country.locator("option").count() > 240

    # What the browser would stop, the server says in its own words too (the form sent as it is):
    await page.locator("#checkout-form").evaluate("form => { form.noValidate = true; }")
    await page.locator("#f-name").fill("Ada Lovelace")
    await _card(page, CARD)
    await expect(page.locator("#checkout-error")).to_have_text("Please check the address below.")
    await expect(page.locator("#f-postal_code-error")).to_have_text(
        "Please enter the postal code (up to 20 characters)."
    )
    await expect(page.locator("#f-country-error")).to_have_text("Please choose a country from the list.")
    await expect(page.locator("#f-name")).to_have_value("Ada Lovelace")
    await _no_raw_validator_text(page)
    await page.goto("/orders")
    await expect(page.locator("main a[href^='/orders/ord_']")).to_have_count(0)


async def test_after_a_declined_card_every_field_and_the_tick_are_kept(page: Page):
    await _to_checkout(page)
    for field, value in ADDRESS.items():
        await page.locator(f"#f-{field}").fill(value)
    await page.get_by_label("Country").select_option(label="Germany")
    await page.get_by_label("Save to my address book").check()
    await _card(page, DECLINED)

    await expect(page.get_by_role("alert").first).to_contain_text("declined")
    for field, value in ADDRESS.items():
        await expect(page.locator(f"#f-{field}")).to_have_value(value)
    await expect(page.get_by_label("Country")).to_have_value("DE")
    await expect(page.get_by_label("Save to my address book")).to_be_checked()
    await _no_raw_validator_text(page)

    await _card(page, CARD)  # only the card is asked for again
    await expect(page).to_have_url(re.compile(r"/orders/ord_"))
    await expect(page.locator("main address")).to_contain_text("Germany")
    await page.goto("/account")
    await expect(page.locator("#addresses address")).to_contain_text("1 Main St")

    # The next purchase offers the saved address; its required new-address fields wait, out of the way.
    await page.goto("/p/classic-cotton-t-shirt")
    await page.get_by_role("button", name="Add to cart").click()
    await page.goto("/checkout")
    await expect(page.get_by_role("radio", name=re.compile("1 Main St"))).to_be_checked()
    await expect(page.locator("#new-address")).to_be_hidden()
    await _card(page, CARD)
    await expect(page).to_have_url(re.compile(r"/orders/ord_"))
    await expect(page.locator("main address")).to_contain_text("1 Main St")
