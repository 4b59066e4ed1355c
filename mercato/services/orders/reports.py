"""Back-office reports: sales per day, orders by state, top products. Read-only, one query each.

Days are UTC days. What each figure counts is defined in docs/operations.md ("Reports").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from mercato.contracts.money import Money
from mercato.platform.errors import UnprocessableEntity
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps
from mercato.services.orders.domain import OrderState
from mercato.services.orders.lookups import day_start
from mercato.services.orders.schemas import (
    OrdersByStateReport,
    SalesDay,
    SalesFigures,
    SalesReport,
    StateCount,
    TopProduct,
    TopProductsReport,
)

NOT_SOLD = (OrderState.CANCELLED, OrderState.RETURNED, OrderState.REFUNDED)
"""Orders whose goods did not stay sold: left out of the top products."""


def report_range(deps: Deps, start: date | None, end: date | None) -> tuple[date, date]:
    """The days a report covers, both included: by default the last 30 days up to today (UTC)."""
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise UnprocessableEntity("`from` is after `to`.", errors={"from": "must not be after to"})
    longest = deps.settings.report_max_days
    if (end - start).days + 1 > longest:
        raise UnprocessableEntity(
            f"A report covers at most {longest} days.",
            errors={"to": f"must be less than {longest} days after from"},
        )
    return start, end


def _figures(orders: int, gross: int, refunded: int, currency: str) -> dict[str, Any]:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    average = (2 * gross + orders) // (2 * orders) if orders else 0  # rounded half up
    return {
        "orders": orders,
        "gross": money(gross),
        "refunded": money(refunded),
        "revenue": money(gross - refunded),
        "average_order_value": money(average),
    }


async def sales_report(deps: Deps, *, start: date, end: date, currency: str) -> SalesReport:
    """Per UTC day: the orders placed, what they cost, and what of it has been refunded since."""
    async with deps.db.read() as session:
        found = await repo.sales_by_day(
            session, start=day_start(start), end=day_start(end + timedelta(days=1)), currency=currency
        )
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    figures = [found.get(day, (0, 0, 0)) for day in days]
    totals = [sum(column) for column in zip(*figures, strict=True)]
    return SalesReport(
        from_=start,
        to=end,
        currency=currency,
        data=[SalesDay(date=day, **_figures(*f, currency)) for day, f in zip(days, figures, strict=True)],
        totals=SalesFigures(**_figures(*totals, currency)),
    )


async def orders_by_state_report(deps: Deps) -> OrdersByStateReport:
    """How many orders are in each state now; every state is listed, in the machine's order."""
    async with deps.db.read() as session:
        counts = await repo.orders_by_state(session)
    data = [StateCount(state=state, count=counts.get(state, 0)) for state in OrderState]
    return OrdersByStateReport(data=data, total=sum(counts.values()))


async def top_products_report(
    deps: Deps, *, start: date, end: date, currency: str, by: Literal["units", "revenue"], limit: int
) -> TopProductsReport:
    """The products sold most in orders placed in the range that stayed sold (not cancelled,
    returned or refunded), by units or by revenue (the lines' prices; shipping is not a product's)."""
    async with deps.db.read() as session:
        rows = await repo.top_products(
            session,
            start=day_start(start),
            end=day_start(end + timedelta(days=1)),
            currency=currency,
            excluded_states=[str(state) for state in NOT_SOLD],
            by=by,
            limit=limit,
        )
    return TopProductsReport(
        from_=start,
        to=end,
        currency=currency,
        by=by,
        data=[
            TopProduct(
                product_id=product_id,
                name=name,
                units=units,
                revenue=Money(amount=revenue, currency=currency),
            )
            for product_id, name, units, revenue in rows
        ],
    )
