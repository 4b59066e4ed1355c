"""What orders reads back from its database carries its UTC offset (date-time): the customer's orders
and their history, and the back office's."""

from __future__ import annotations

from tests.orders.factories import place_order, staff_headers
from tests.timestamps import assert_utc


async def test_orders_and_their_history_answer_utc_timestamps(back_office):
    order = await place_order(
        orders=back_office.orders, catalog=back_office.catalog, sandbox=back_office.sandbox
    )
    customer = {"x-mercato-customer-id": order["customer_id"]}
    staff = staff_headers(roles=("support",))

    mine = await back_office.orders.get("/api/v1/orders", headers=customer)
    assert_utc(mine.json(), "data.0.created_at", "data.0.placed_at")
    one = await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=customer)
    assert_utc(one.json(), "created_at", "placed_at", "history.0.at")
    listed = await back_office.orders.get("/admin/v1/orders", headers=staff)
    assert_utc(listed.json(), "data.0.created_at", "data.0.placed_at")
    seen = await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=staff)
    assert_utc(seen.json(), "created_at", "updated_at", "placed_at", "history.0.at")
