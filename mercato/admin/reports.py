"""Reports: sales per day, orders per state and top products, each as a chart with its table."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from mercato.admin.auth import checked
from mercato.admin.charts import Bar, bar_chart, horizontal_bars
from mercato.admin.web import caller, field_errors, render
from mercato.webkit.money import format_money

router = APIRouter()
DEFAULT_DAYS = 30


def period(request: Request) -> tuple[str, str]:
    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(request.query_params.get("from", ""))
    except ValueError:
        start = today - timedelta(days=DEFAULT_DAYS - 1)
    try:
        end = date.fromisoformat(request.query_params.get("to", ""))
    except ValueError:
        end = today
    return start.isoformat(), end.isoformat()


@router.get("/reports")
async def reports(request: Request) -> Response:
    start, end = period(request)
    staff = caller(request)
    window = {"from": start, "to": end}
    sales, states, top = await asyncio.gather(
        staff.send("orders", "GET", "/admin/v1/reports/sales", params=window),
        staff.send("orders", "GET", "/admin/v1/reports/orders-by-state"),
        staff.send("orders", "GET", "/admin/v1/reports/top-products", params=window | {"limit": "10"}),
    )
    for response in (sales, states, top):
        checked(response)
    if sales.status_code != 200:
        return render(
            request,
            "reports.jinja",
            422,
            start=start,
            end=end,
            sales=None,
            states=None,
            top=None,
            error="Please check the dates: " + "; ".join(field_errors(sales).values()),
        )
    days = sales.json()["data"]
    by_state = states.json()["data"] if states.status_code == 200 else []
    products = top.json()["data"] if top.status_code == 200 else []
    return render(
        request,
        "reports.jinja",
        start=start,
        end=end,
        sales=days,
        states=by_state,
        top=products,
        sales_chart=Markup(  # noqa: S704 - built by charts.py, which escapes every label
            bar_chart(
                [Bar(d["date"][5:], d["revenue"]["amount"], format_money(d["revenue"])) for d in days],
                title=f"Revenue per day, {start} to {end}",
            )
        ),
        states_chart=Markup(  # noqa: S704
            horizontal_bars(
                [Bar(s["state"].replace("_", " "), s["count"], str(s["count"])) for s in by_state],
                title="Orders per state",
            )
        ),
        top_chart=Markup(  # noqa: S704
            horizontal_bars(
                [Bar(p.get("name") or p["sku"], p["units"], f"{p['units']} sold") for p in products],
                title="Top products by units sold",
            )
        ),
    )
