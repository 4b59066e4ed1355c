"""Sold out means sold out: the product page won't offer a variant with no stock, and a last unit that
someone else buys while it sits in the cart is refused at checkout, with a clear message and no charge."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.browser.test_buying import CARD, _fill_checkout, _register

SLUG = "classic-cotton-t-shirt"


async def test_a_sold_out_variant_offers_nothing_to_buy(page: Page, platform, gateway):
    product = gateway.get(f"/api/v1/products/{SLUG}").json()
    sold_out = next(v for v in product["variants"] if v["available"] == 0)
    size, colour = sold_out["attributes"]["size"], sold_out["attributes"]["colour"]

    await page.goto(f"/p/{SLUG}?size={size}&colour={colour}")
    await expect(page.locator("#availability")).to_contain_text("Sold out")
    await expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()
    await expect(page.locator("label.sold-out").first).to_be_visible()  # the chip says so too


def _buy_everything_left(platform, gateway: httpx.Client, sku: str) -> None:
    """Another shopper, through the public API, buys every unit still available."""
    email = f"rival-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Rival"}
    )
    token = gateway.post(
        "/api/v1/auth/token", json={"email": email, "password": "correct horse battery"}
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    added = gateway.post(
        "/api/v1/cart/items", json={"sku": sku, "quantity": platform.available(sku)}, headers=auth
    )
    assert added.status_code == 200, added.text
    bought = gateway.post(
        "/api/v1/checkout",
        json={
            "shipping_address": {
                "name": "Rival",
                "line1": "2 High St",
                "city": "Paris",
                "postal_code": "75001",
                "country": "FR",
            },
            "payment_method": platform.card(),
        },
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert bought.status_code == 201, bought.text
    assert platform.available(sku) == 0


async def test_the_last_unit_bought_by_someone_else_is_refused_at_checkout_without_charging(
    page: Page, platform, gateway
):
    product = gateway.get("/api/v1/products/linen-wrap-skirt").json()
    variant = product["variants"][0]
    platform.set_stock(variant["sku"], 1)

    await _register(page)
    attributes = variant["attributes"]
    await page.goto(f"/p/{product['slug']}?size={attributes['size']}&colour={attributes['colour']}")
    await expect(page.locator("#availability")).to_contain_text("only 1 left")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page).to_have_url(re.compile(r"/cart"))

    await _fill_checkout(page, CARD)  # the checkout page is open, the card typed in ...

    _buy_everything_left(platform, gateway, variant["sku"])  # ... when someone else buys the last one

    await page.locator("#pay").click()
    alert = page.get_by_role("alert").first
    await expect(alert).to_contain_text("sold out")
    await expect(alert).to_contain_text("nothing was charged")
    await page.goto("/orders")
    await expect(page.locator("main a[href^='/orders/ord_']")).to_have_count(0)

    # Coming back to the checkout, the shopper is told why it cannot be paid, and where to go.
    await page.goto("/checkout")
    await expect(page.locator("#checkout-unavailable")).to_contain_text("review your cart")
    await expect(page.locator("#pay")).to_be_disabled()
