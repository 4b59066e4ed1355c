"""The variant picker: what is shown as picked is what "Add to cart" adds, with JavaScript (the page follows
the pick: price, availability, image, SKU) and without (the form posts the options; the server resolves
them, or refuses a pick it cannot sell with a message and the pick kept)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from mercato.webkit.money import format_money
from tests.browser.test_buying import _register

SLUG = "classic-cotton-t-shirt"


def _product(gateway) -> dict:
    return gateway.get(f"/api/v1/products/{SLUG}").json()


def _pickable(product: dict) -> dict:
    """An in-stock variant whose colour and size both differ from what the page shows first, in a colour
    the gallery has an image of; Blush Pink / L when it can be."""
    variants = product["variants"]
    first = next(v for v in variants if v["available"])["attributes"]
    pictured = {image["alt"].rsplit(" in ", 1)[-1] for image in product["images"]}
    candidates = [
        v
        for v in variants
        if v["available"] >= 5
        and v["attributes"]["colour"] != first["colour"]
        and v["attributes"]["size"] != first["size"]
        and v["attributes"]["colour"] in pictured
    ]
    preferred = [v for v in candidates if v["attributes"] == {"size": "L", "colour": "Blush Pink"}]
    return (preferred or candidates)[0]


async def _pick(page: Page, size: str, colour: str) -> None:
    """Click the chips, as a shopper does (the radios themselves are hidden behind their labels)."""
    for name, value in (("colour", colour), ("size", size)):
        radio = page.locator(f"input[name={name}][value='{value}']")
        await page.locator(f"label[for='{await radio.get_attribute('id')}']").click()
        await expect(radio).to_be_checked()


async def _cart_line(page: Page, variant: dict) -> None:
    await expect(page).to_have_url(re.compile(r"/cart$"))
    lines = page.locator(".cart-line")
    await expect(lines).to_have_count(1)
    attributes = variant["attributes"]
    await expect(lines).to_contain_text(f"Size: {attributes['size']}, Colour: {attributes['colour']}")
    await expect(lines).to_contain_text(f"SKU {variant['sku']}")


@pytest.fixture
async def no_js(browser: Browser, platform) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        base_url=platform.topology.storefront_url,
        viewport={"width": 1280, "height": 900},
        java_script_enabled=False,
    )
    yield context
    await context.close()


async def test_the_picked_colour_and_size_are_what_is_added_and_the_page_follows_the_pick(
    page: Page, platform, gateway
):
    variant = _pickable(_product(gateway))
    size, colour = variant["attributes"]["size"], variant["attributes"]["colour"]
    await _register(page)
    await page.goto(f"/p/{SLUG}")
    await _pick(page, size, colour)

    await expect(page.locator("#price")).to_have_text(format_money(variant["price"]))
    await expect(page.locator("#availability")).to_have_text(re.compile(r"^In stock"))
    await expect(page.locator("#sku")).to_have_text(f"SKU {variant['sku']}")
    await expect(page.locator("#gallery img").first).to_have_attribute("alt", re.compile(f" in {colour}$"))
    await expect(page.locator("legend", has_text="Colour")).to_have_text(f"Colour: {colour}")
    await expect(page).to_have_url(re.compile(rf"size={size}"))

    await page.get_by_role("button", name="Add to cart").click()
    await _cart_line(page, variant)


async def test_a_sold_out_pick_disables_add_to_cart_until_an_available_one_is_picked(page: Page, gateway):
    product = _product(gateway)
    sold_out = next(v for v in product["variants"] if v["available"] == 0)
    size, colour = sold_out["attributes"]["size"], sold_out["attributes"]["colour"]
    await page.goto(f"/p/{SLUG}")
    await _pick(page, size, colour)
    await expect(page.locator("#availability")).to_have_text("Sold out in this size and colour")
    await expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()
    other = next(v for v in product["variants"] if v["available"] and v["attributes"]["colour"] == colour)
    await _pick(page, other["attributes"]["size"], colour)
    await expect(page.get_by_role("button", name="Add to cart")).to_be_enabled()


async def test_without_javascript_the_picked_options_are_what_is_added(no_js: BrowserContext, gateway):
    product = _product(gateway)
    variant = _pickable(product)
    size, colour = variant["attributes"]["size"], variant["attributes"]["colour"]
    page = await no_js.new_page()
    await _register(page)
    await page.goto(f"/p/{SLUG}")

    sold_out = next(v for v in product["variants"] if v["available"] == 0)["attributes"]
    await _pick(page, sold_out["size"], sold_out["colour"])
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page.get_by_role("alert")).to_have_text(
        f"Sorry, {sold_out['colour']}, size {sold_out['size']} is sold out. "
        "Please choose another size or colour."
    )
    await expect(page.locator("input[name=size]:checked")).to_have_value(sold_out["size"])  # the pick kept

    await _pick(page, size, colour)
    await page.get_by_role("button", name="Check price and stock").click()
    await expect(page.locator("#price")).to_have_text(format_money(variant["price"]))
    await expect(page.locator("#sku")).to_have_text(f"SKU {variant['sku']}")
    await page.get_by_role("button", name="Add to cart").click()
    await _cart_line(page, variant)


async def test_a_combination_that_does_not_exist_is_refused_with_a_message(no_js: BrowserContext):
    page = await no_js.new_page()
    await _register(page)
    await page.goto(f"/p/{SLUG}")
    token = await page.locator("#picker input[name=csrf_token]").get_attribute("value")
    refused = await page.request.post(
        "/cart/items",
        form={"csrf_token": token, "product": SLUG, "colour": "Chartreuse", "size": "L", "quantity": "1"},
        max_redirects=0,
    )
    assert refused.status == 422
    text = await refused.text()
    assert "we don&#39;t make the Classic Cotton T-Shirt in Chartreuse, size L" in text, text
    missing = await page.request.post(
        "/cart/items", form={"csrf_token": token, "product": SLUG, "colour": "Black"}, max_redirects=0
    )
    assert missing.status == 422 and "Please choose a size." in await missing.text()
    await page.goto("/cart")
    await expect(page.locator("main")).to_contain_text("Your cart is empty")
