"""Short human order numbers (M-10042): given when an order is placed, unique under concurrent checkouts,
in the shopper's and the back office's JSON and in OrderPlaced; the back office finds an order by it;
orders placed before numbers existed get theirs from the migration."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

from mercato.platform.ids import new_id
from mercato.platform.migrations import upgrade
from tests.orders.factories import card_token, outbox_events, place_order, staff_headers

SUPPORT = staff_headers(roles=("support",))


async def _order(office, **kwargs) -> dict:
    return await place_order(orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, **kwargs)


async def test_a_placed_order_has_a_short_number_the_shopper_and_the_event_carry(back_office):
    first, second = await _order(back_office), await _order(back_office)
    assert (first["number"], second["number"]) == ("M-10001", "M-10002")

    customer = {"x-mercato-customer-id": second["customer_id"]}
    detail = (await back_office.orders.get(f"/api/v1/orders/{second['id']}", headers=customer)).json()
    [summary] = (await back_office.orders.get("/api/v1/orders", headers=customer)).json()["data"]
    staff = (await back_office.orders.get(f"/admin/v1/orders/{second['id']}", headers=SUPPORT)).json()
    assert detail["number"] == summary["number"] == staff["number"] == "M-10002"
    placed = await outbox_events(back_office.orders_app, "OrderPlaced")
    assert [(e["order_id"], e["number"]) for e in placed] == [
        (first["id"], "M-10001"),
        (second["id"], "M-10002"),
    ]


async def test_a_declined_checkout_takes_no_number(back_office):
    first = await _order(back_office)
    customer = {"x-mercato-customer-id": new_id("cus")}
    sku = first["lines"][0]["sku"]
    await back_office.orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)
    declined = await back_office.orders.post(
        "/api/v1/checkout",
        json={
            "shipping_address": first["shipping_address"],
            "payment_method": card_token(sandbox=back_office.sandbox, number="4000000000000002"),
        },
        headers=customer | {"Idempotency-Key": "declined"},
    )
    assert declined.status_code == 402
    [failed] = (
        await back_office.orders.get("/admin/v1/orders", params={"state": "failed"}, headers=SUPPORT)
    ).json()["data"]
    assert failed["number"] is None
    assert (await _order(back_office))["number"] == "M-10002"  # no gap


async def test_concurrent_checkouts_get_distinct_consecutive_numbers(back_office):
    placed = await asyncio.gather(*(_order(back_office) for _ in range(8)))
    numbers = sorted(int(order["number"].removeprefix("M-")) for order in placed)
    assert numbers == list(range(10001, 10009))


async def test_the_back_office_finds_an_order_by_its_number(back_office):
    orders = [await _order(back_office) for _ in range(3)]
    target = orders[1]
    for q in ("M-10002", "m-10002", "10002", " M10002 "):
        found = await back_office.orders.get("/admin/v1/orders", params={"q": q}, headers=SUPPORT)
        assert found.status_code == 200, found.text
        assert [o["id"] for o in found.json()["data"]] == [target["id"]], q
        assert found.json()["data"][0]["number"] == "M-10002"
    nothing = await back_office.orders.get("/admin/v1/orders", params={"q": "M-99999"}, headers=SUPPORT)
    assert nothing.json()["data"] == []
    by_id = await back_office.orders.get("/admin/v1/orders", params={"q": target["id"]}, headers=SUPPORT)
    assert [o["id"] for o in by_id.json()["data"]] == [target["id"]]  # ids still work


def test_the_migration_numbers_the_orders_placed_before_it_in_the_order_they_were_placed(tmp_path):
    path = tmp_path / "orders.db"
    upgrade("orders", f"sqlite+aiosqlite:///{path}", "0004")
    rows = [  # id, state, placed_at
        ("ord_B", "delivered", "2026-01-02 10:00:00.000000+00:00"),
        ("ord_A", "shipped", "2026-01-01 10:00:00.000000+00:00"),
        ("ord_C", "failed", None),
        ("ord_D", "placed", "2026-01-03 10:00:00.000000+00:00"),
    ]
    with sqlite3.connect(path) as db:
        for order_id, state, placed_at in rows:
            db.execute(
                "INSERT INTO orders (id, customer_id, state, currency, subtotal, shipping, total, "
                "shipping_address, payment_method, idempotency_key, request_hash, refunded, created_at, "
                "updated_at, placed_at) VALUES (?, 'cus_1', ?, 'EUR', 100, 0, 100, '{}', 'pm_x', ?, "
                "'h', 0, '2026-01-01 09:00:00.000000+00:00', '2026-01-01 09:00:00.000000+00:00', ?)",
                (order_id, state, uuid.uuid4().hex, placed_at),
            )

    upgrade("orders", f"sqlite+aiosqlite:///{path}")

    with sqlite3.connect(path) as db:
        numbers = dict(db.execute("SELECT id, number FROM orders").fetchall())
        [(last,)] = db.execute("SELECT last FROM order_number_counter").fetchall()
    assert numbers == {"ord_A": 10001, "ord_B": 10002, "ord_C": None, "ord_D": 10003}
    assert last == 10003
