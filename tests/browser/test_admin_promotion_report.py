"""After an order with a code, the back office's promotions report shows it — one order, its revenue and
what the discount cost, per currency, in the chosen period — and the order page shows the promotion and
how it was paid; in a real browser at 1280 and 390 px."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect

from mercato.platform.ids import new_id
from mercato.webkit.money import format_money
from tests.browser.conftest import screenshot
from tests.browser.test_admin import ADDRESS, admin, sign_in_for_the_first_time  # noqa: F401 - the fixture
from tests.browser.test_admin_promotions import fits
from tests.e2e.staff import create_staff
from tests.mobile_api.test_codes_e2e import create_promotion


def _order_with_code(platform, gateway, code: str) -> dict:
    """A shopper buys two T-shirts with the code, through the public API; the order as they see it."""
    auth = platform.token_for(new_id("cus"))
    sku = gateway.get("/api/v1/products/boxy-organic-tee").json()["variants"][1]["sku"]
    platform.set_stock(sku, 5)
    assert (
        gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=auth).status_code == 200
    )
    applied = gateway.post("/api/v1/cart/codes", json={"code": code}, headers=auth)
    assert applied.status_code == 200 and applied.json()["codes"][0]["applied"], applied.text
    placed = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card()},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    return gateway.get(f"/api/v1/orders/{placed.json()['id']}", headers=auth).json()


async def test_the_report_and_the_order_page_show_what_a_code_cost(admin: Page, platform, gateway):  # noqa: F811
    code = f"REPORT{uuid.uuid4().hex[:6].upper()}"
    promotion = create_promotion(
        platform, code=code, action={"type": "percentage", "target": "lines", "percent": "20"}
    )
    order = _order_with_code(platform, gateway, code)
    [used] = order["promotions"]
    assert used["amount"]["amount"] > 0 and order["totals"]["discount"] == used["amount"]

    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising", "operations")))
    await admin.goto("/promotions")
    await admin.get_by_role("link", name="Report: revenue and discount cost").click()
    row = admin.locator("#promotion-report tbody tr", has_text=promotion["name"])
    await expect(row).to_have_count(1)
    cells = [text.strip() for text in await row.locator("td").all_inner_texts()]
    assert cells[1:] == ["EUR", "1", format_money(order["totals"]["total"]), format_money(used["amount"])]
    await expect(admin.get_by_role("img", name="Discount cost per promotion (EUR)")).to_be_visible()
    await screenshot(admin, platform, "admin-promotions-report")
    await fits(admin)

    # A period before the order: it is not counted.
    past = (datetime.now(UTC) - timedelta(days=40)).date()
    await admin.get_by_label("From", exact=True).fill(past.isoformat())
    await admin.get_by_label("To", exact=True).fill((past + timedelta(days=1)).isoformat())
    await admin.get_by_role("button", name="Show").click()
    await expect(admin.locator("#promotion-report tbody tr", has_text=promotion["name"])).to_have_count(0)

    await admin.goto(f"/orders/{order['id']}")
    line = admin.locator("#order-totals tr.promotion-line")
    await expect(line).to_contain_text(promotion["name"])
    await expect(line).to_contain_text(code)
    await expect(line).to_contain_text(f"\u2212 {format_money(used['amount'])}")
    total = format_money(order["totals"]["total"])
    await expect(admin.locator("#tenders")).to_contain_text(f"Card …4242: {total}")
    await fits(admin)
