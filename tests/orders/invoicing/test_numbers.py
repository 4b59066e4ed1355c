"""Invoice numbers: given in the transaction that places the order, gapless per market and year under
concurrent checkouts, never to a checkout that failed; orders placed before invoices get theirs from the
migration."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest

from mercato.platform.ids import new_id
from mercato.platform.migrations import upgrade
from mercato.services.orders.invoicing.issue import number_invoice
from tests.orders.factories import card_token, outbox_events, place_order, staff_headers

SUPPORT = staff_headers(roles=("support",))


async def _order(office, **kwargs) -> dict:
    return await place_order(orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, **kwargs)


def _year() -> int:
    return datetime.now(UTC).year


async def test_concurrent_checkouts_get_consecutive_invoice_numbers_without_gaps(back_office):
    placed = await asyncio.gather(*(_order(back_office) for _ in range(8)))
    numbers = sorted(order["invoice_number"] for order in placed)
    assert numbers == [f"EU-{_year()}-{n:05d}" for n in range(1, 9)]
    events = await outbox_events(back_office.orders_app, "OrderPlaced")
    assert {(e["order_id"], e["invoice_number"]) for e in events} == {
        (o["id"], o["invoice_number"]) for o in placed
    }


async def test_a_declined_checkout_takes_no_invoice_number(back_office):
    first = await _order(back_office)
    customer = {"x-mercato-customer-id": new_id("cus")}
    await back_office.orders.post(
        "/api/v1/cart/items", json={"sku": first["lines"][0]["sku"]}, headers=customer
    )
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
    staff_view = (await back_office.orders.get(f"/admin/v1/orders/{failed['id']}", headers=SUPPORT)).json()
    assert (staff_view["invoice_number"], staff_view["invoice_url"]) == (None, None)
    assert (await _order(back_office))["invoice_number"] == f"EU-{_year()}-00002"  # no gap


async def test_each_market_and_year_counts_on_its_own_and_a_rollback_gives_its_number_back(back_office):
    db = back_office.orders_app.state.db
    this_year, next_year = datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    async with db.unit_of_work() as session:
        given = [
            await number_invoice(session, market_id="eu", placed_at=this_year),
            await number_invoice(session, market_id="uk", placed_at=this_year),
            await number_invoice(session, market_id="eu", placed_at=this_year),
            await number_invoice(session, market_id="eu", placed_at=next_year),
        ]
    assert given == ["EU-2026-00001", "UK-2026-00001", "EU-2026-00002", "EU-2027-00001"]

    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as session:
            assert await number_invoice(session, market_id="uk", placed_at=this_year) == "UK-2026-00002"
            raise RuntimeError("the placing failed after taking its number")
    async with db.unit_of_work() as session:
        assert await number_invoice(session, market_id="uk", placed_at=this_year) == "UK-2026-00002"


def test_the_migration_numbers_the_orders_placed_before_it_per_market_and_year(tmp_path):
    path = tmp_path / "orders.db"
    upgrade("orders", f"sqlite+aiosqlite:///{path}", "0009")
    rows = [  # id, state, market, placed_at
        ("ord_B", "delivered", "eu", "2025-12-31 10:00:00.000000+00:00"),
        ("ord_A", "shipped", "eu", "2025-06-01 10:00:00.000000+00:00"),
        ("ord_C", "failed", "eu", None),
        ("ord_D", "placed", "uk", "2026-01-03 10:00:00.000000+00:00"),
        ("ord_E", "placed", "eu", "2026-01-02 10:00:00.000000+00:00"),
    ]
    with sqlite3.connect(path) as db:
        for order_id, state, market_id, placed_at in rows:
            db.execute(
                "INSERT INTO orders (id, customer_id, state, currency, subtotal, shipping, total, "
                "shipping_address, payment_method, idempotency_key, request_hash, refunded, created_at, "
                "updated_at, placed_at, market_id) VALUES (?, 'cus_1', ?, 'EUR', 100, 0, 100, '{}', 'pm_x', "
                "?, 'h', 0, '2025-01-01 09:00:00.000000+00:00', '2025-01-01 09:00:00.000000+00:00', ?, ?)",
                (order_id, state, uuid.uuid4().hex, placed_at, market_id),
            )

    upgrade("orders", f"sqlite+aiosqlite:///{path}")

    with sqlite3.connect(path) as db:
        numbers = dict(db.execute("SELECT id, invoice_number FROM orders").fetchall())
        counters = db.execute(
            "SELECT kind, market_id, year, last FROM document_counters ORDER BY 2, 3"
        ).fetchall()
    assert numbers == {
        "ord_A": "EU-2025-00001",
        "ord_B": "EU-2025-00002",
        "ord_C": None,
        "ord_D": "UK-2026-00001",
        "ord_E": "EU-2026-00001",
    }
    assert counters == [("invoice", "eu", 2025, 2), ("invoice", "eu", 2026, 1), ("invoice", "uk", 2026, 1)]
