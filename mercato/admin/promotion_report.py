"""The promotions report: per promotion and currency, the orders that used it, their revenue and what the
discounts cost, over a period (sales included, at their list prices' difference), with a chart per
currency beside the figures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from mercato.admin.auth import checked
from mercato.admin.charts import Bar, horizontal_bars
from mercato.admin.reports import period
from mercato.admin.web import caller, field_errors, render
from mercato.webkit.money import format_money

router = APIRouter()


@router.get("/promotions/report")
async def promotions_report(request: Request) -> Response:
    start, end = period(request)
    response = checked(
        await caller(request).send(
            "orders", "GET", "/admin/v1/reports/promotions", params={"from": start, "to": end}
        ),
        "orders",
    )
    if response.status_code != 200:
        return render(
            request,
            "promotion_report.jinja",
            422,
            start=start,
            end=end,
            rows=None,
            error="Please check the dates: " + "; ".join(field_errors(response).values()),
        )
    rows: list[dict[str, Any]] = response.json()["data"]
    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_currency[row["discount"]["currency"]].append(row)
    charts = {
        currency: Markup(  # noqa: S704 - built by charts.py, which escapes every label
            horizontal_bars(
                [Bar(r["name"], r["discount"]["amount"], format_money(r["discount"])) for r in listed],
                title=f"Discount cost per promotion ({currency}), {start} to {end}",
            )
        )
        for currency, listed in sorted(by_currency.items())
    }
    return render(request, "promotion_report.jinja", start=start, end=end, rows=rows, charts=charts)
