"""Reports over a known data set, on SQLite and PostgreSQL. The PostgreSQL database runs in a time zone
far from UTC, so a report that grouped by the session's day instead of the UTC day would be caught."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from mercato.services.orders.main import build_app
from mercato.services.orders.settings import OrdersSettings
from tests.orders.factories import add_order, staff_headers

OPERATIONS = staff_headers(roles=("operations",))


async def _far_from_utc(url: str) -> None:
    """Make every session of this PostgreSQL database think in Auckland time (UTC+13 in March)."""
    database = make_url(url).database
    dsn = (
        make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"ALTER DATABASE \"{database}\" SET timezone TO 'Pacific/Auckland'")
    finally:
        await connection.close()


@pytest.fixture
async def reports(databases, backend) -> AsyncIterator[httpx.AsyncClient]:
    """Orders alone (reports call no other service), its database filled by the test."""
    url = await databases.fresh("orders", backend)
    if backend == "postgresql":
        await _far_from_utc(url)
    app = build_app(
        OrdersSettings(environment="test", database_url=url, cursor_secret="s", order_link_secret="t")
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders") as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


SHIRT, MUG, CAP = ("prod_shirt", "Shirt", 2000), ("prod_mug", "Mug", 900), ("prod_cap", "Cap", 1500)


async def _data_set(app) -> None:
    """1 March: two orders, one partly refunded. 2 March: none. 3 March: one order just before
    midnight UTC (in Auckland it is the 4th already) and a cancelled one. 4 March: one at 00:00 UTC.
    Outside the range or currency: one on 28 February, one in USD, one never placed (failed)."""

    def line(product: tuple[str, str, int], quantity: int) -> tuple[str, str, int, int]:
        return (*product, quantity)

    await add_order(app, placed_at=at(1, 9), lines=[line(SHIRT, 2)], shipping=495, refunded=1000)
    await add_order(app, placed_at=at(1, 18), lines=[line(MUG, 1)], state="shipped")
    await add_order(app, placed_at=at(3, 23, 59), lines=[line(MUG, 3), line(SHIRT, 1)])
    await add_order(app, placed_at=at(3, 10), lines=[line(CAP, 5)], state="refunded", refunded=7500)
    await add_order(app, placed_at=at(4, 0), lines=[line(CAP, 1)], state="placed")
    await add_order(app, placed_at=datetime(2026, 2, 28, 23, 59, tzinfo=UTC), lines=[line(SHIRT, 9)])
    await add_order(app, placed_at=at(2), lines=[line(SHIRT, 4)], currency="USD")
    await add_order(app, placed_at=None, lines=[line(CAP, 2)], state="failed")


def _eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


async def test_sales_per_utc_day_with_empty_days_refunds_and_average_order_value(reports):
    await _data_set(reports.app)

    response = await reports.get(
        "/admin/v1/reports/sales", params={"from": "2026-03-01", "to": "2026-03-05"}, headers=OPERATIONS
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"], report["currency"]) == ("2026-03-01", "2026-03-05", "EUR")
    figures = [
        (d["date"], d["orders"], d["gross"]["amount"], d["refunded"]["amount"], d["revenue"]["amount"])
        for d in report["data"]
    ]
    assert figures == [
        ("2026-03-01", 2, 4495 + 900, 1000, 5395 - 1000),
        ("2026-03-02", 0, 0, 0, 0),  # the USD order is not counted in EUR
        ("2026-03-03", 2, 4700 + 7500, 7500, 4700),  # a cancelled order was placed all the same
        ("2026-03-04", 1, 1500, 0, 1500),
        ("2026-03-05", 0, 0, 0, 0),
    ]
    assert [d["average_order_value"]["amount"] for d in report["data"]] == [
        2698,
        0,
        6100,
        1500,
        0,
    ]  # 2697.5 ↑
    assert report["totals"] == {
        "orders": 5,
        "gross": _eur(19095),
        "refunded": _eur(8500),
        "revenue": _eur(10595),
        "average_order_value": _eur(3819),
    }
    usd = await reports.get(
        "/admin/v1/reports/sales",
        params={"from": "2026-03-02", "to": "2026-03-02", "currency": "USD"},
        headers=OPERATIONS,
    )
    assert usd.json()["totals"]["gross"] == {"amount": 8000, "currency": "USD"}


async def test_orders_by_state_lists_every_state(reports):
    await _data_set(reports.app)
    report = (await reports.get("/admin/v1/reports/orders-by-state", headers=OPERATIONS)).json()
    counts = {row["state"]: row["count"] for row in report["data"]}
    assert counts == {
        "pending_payment": 0,
        "failed": 1,
        "placed": 1,
        "confirmed": 0,
        "processing": 0,
        "shipped": 1,
        "delivered": 4,
        "cancelled": 0,
        "returned": 0,
        "refunded": 1,
    }
    assert report["total"] == 8


async def test_top_products_by_units_and_by_revenue_of_orders_that_stayed_sold(reports):
    await _data_set(reports.app)
    params = {"from": "2026-03-01", "to": "2026-03-04"}

    by_units = (await reports.get("/admin/v1/reports/top-products", params=params, headers=OPERATIONS)).json()
    by_revenue = (
        await reports.get(
            "/admin/v1/reports/top-products", params=params | {"by": "revenue"}, headers=OPERATIONS
        )
    ).json()

    # the refunded order's 5 caps do not count; the shirts of 28 February and the USD order are outside
    assert [(p["product_id"], p["units"], p["revenue"]["amount"]) for p in by_units["data"]] == [
        ("prod_mug", 4, 3600),
        ("prod_shirt", 3, 6000),
        ("prod_cap", 1, 1500),
    ]
    assert [p["product_id"] for p in by_revenue["data"]] == ["prod_shirt", "prod_mug", "prod_cap"]
    assert by_revenue["data"][0] == {
        "product_id": "prod_shirt",
        "name": "Shirt",
        "units": 3,
        "revenue": _eur(6000),
    }
    top_one = await reports.get(
        "/admin/v1/reports/top-products", params=params | {"limit": 1}, headers=OPERATIONS
    )
    assert [p["product_id"] for p in top_one.json()["data"]] == ["prod_mug"]


async def test_a_range_is_at_most_a_year_and_runs_forwards(reports):
    for path in ("/admin/v1/reports/sales", "/admin/v1/reports/top-products"):
        leap_year = await reports.get(
            path, params={"from": "2028-01-01", "to": "2028-12-31"}, headers=OPERATIONS
        )
        assert leap_year.status_code == 200, leap_year.text
        too_long = await reports.get(
            path, params={"from": "2026-01-01", "to": "2027-01-02"}, headers=OPERATIONS
        )
        assert too_long.status_code == 422
        assert too_long.headers["content-type"] == "application/problem+json"
        backwards = await reports.get(
            path, params={"from": "2026-03-02", "to": "2026-03-01"}, headers=OPERATIONS
        )
        assert backwards.status_code == 422
        not_a_date = await reports.get(path, params={"from": "yesterday"}, headers=OPERATIONS)
        assert not_a_date.status_code == 422
        year_one = await reports.get(path, params={"to": "0001-01-01"}, headers=OPERATIONS)
        assert year_one.status_code == 422  # was a 500: its default start is before the first date
    default = (await reports.get("/admin/v1/reports/sales", headers=OPERATIONS)).json()
    assert len(default["data"]) == 30 and default["to"] == datetime.now(UTC).date().isoformat()
    assert (
        len(
            (
                await reports.get(
                    "/admin/v1/reports/sales",
                    params={"from": "2028-01-01", "to": "2028-12-31"},
                    headers=OPERATIONS,
                )
            ).json()["data"]
        )
        == 366
    )


async def test_who_sees_which_report(reports):
    cases = [
        (("operations",), 200, 200, 200),
        (("admin",), 200, 200, 200),
        (("merchandising",), 403, 403, 200),
        (("support",), 403, 403, 403),
    ]
    for roles, sales, states, top in cases:
        headers = staff_headers(roles=roles)
        got = (
            (await reports.get("/admin/v1/reports/sales", headers=headers)).status_code,
            (await reports.get("/admin/v1/reports/orders-by-state", headers=headers)).status_code,
            (await reports.get("/admin/v1/reports/top-products", headers=headers)).status_code,
        )
        assert got == (sales, states, top), roles
    assert (await reports.get("/admin/v1/reports/sales")).status_code == 401
    no_mfa = staff_headers(roles=("operations",), mfa=False)
    assert (await reports.get("/admin/v1/reports/top-products", headers=no_mfa)).status_code == 401
