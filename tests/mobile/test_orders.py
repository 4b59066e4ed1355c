"""An order after checkout, as the app shows it: shipped by the back office with a carrier and tracking
number, the timeline and the tracking in the app; and a shopper cancelling an order before it ships."""

from __future__ import annotations

import httpx
import pytest

from tests.mobile.conftest import find, register, said, tap, texts
from tests.mobile.test_journey import CARD, _add_and_open_checkout, _fill_checkout

pytestmark = pytest.mark.e2e


async def _buy(app) -> dict:
    shop = app.shop
    await register(app)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    await _fill_checkout(shop, CARD)
    await tap(shop.screen.pay)
    assert type(shop.screen).__name__ == "ConfirmationScreen", texts(shop.root)
    return shop.screen.order


async def test_a_shipped_order_shows_its_timeline_and_tracking(app, platform):
    shop = app.shop
    order = await _buy(app)
    orders = platform.service_url("orders")
    for body in (
        {"to": "processing"},
        {"to": "shipped", "carrier": "dhl", "tracking_number": "JD014600003828"},
    ):
        moved = httpx.post(
            f"{orders}/admin/v1/orders/{order['id']}/transitions",
            json=body,
            headers=platform.staff_headers("operations"),
        )
        assert moved.status_code == 200, moved.text

    await tap(shop.screen.view)
    detail = shop.screen
    assert find(detail.box, "order-status").text == "Shipped"
    timeline = texts(find(detail.box, "timeline"))
    assert [word for word in ("Placed", "Processing", "Shipped") if word not in timeline] == []
    assert "JD014600003828" in find(detail.box, "tracking").text
    assert find(shop.actions, "cancel-order") is None  # shipped: too late to cancel


async def test_cancel_before_it_ships(app):
    shop = app.shop
    order = await _buy(app)
    await tap(shop.screen.view)
    cancel = find(shop.actions, "cancel-order")
    assert cancel is not None
    await tap(cancel)
    assert shop.screen.order["status"] != "cancelled" and "Tap again" in cancel.text
    await tap(cancel)
    assert shop.screen.order["id"] == order["id"]
    assert shop.screen.order["status"] in ("cancelled", "refunded"), said(shop.screen.message)
    assert "Cancelled" in texts(find(shop.screen.box, "timeline"))
