"""The promotions report: per promotion and currency, the orders placed in a range (UTC days) that it
applied to, their revenue (the orders' totals) and what it took off them (its cost).

- Cart promotions (automatic, code): from `promotion_redemptions` of placed orders — the amounts the
  checkout recorded, to the cent (pending and failed checkouts have no placed time and no redemption).
- Sales: from order lines with a `list_unit_price` (sold below their list price), each naming the sale
  that priced it as catalog answered at checkout: the cost is (list price - unit price) * quantity.
  Lines sold before order lines named their sale are counted under `promotion_id` "unattributed-sale".

Placed orders count whatever became of them since (cancelled or refunded ones too), as the sales
report's `gross` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from mercato.contracts.money import Money
from mercato.services.orders.deps import Deps
from mercato.services.orders.lookups import day_start
from mercato.services.orders.promotions import store
from mercato.services.orders.promotions.schemas import PromotionFigures, PromotionsReport
from mercato.services.orders.reports import report_range

UNATTRIBUTED = "unattributed-sale"


@dataclass
class _Figures:
    name: str
    trigger: str
    orders: set[str] = field(default_factory=set)
    revenue: int = 0
    discount: int = 0


async def promotions_report(deps: Deps, *, start: date | None, end: date | None) -> PromotionsReport:
    start, end = report_range(deps, start, end)
    since, until = day_start(start), day_start(end + timedelta(days=1))
    async with deps.db.read() as session:
        redeemed = await store.redemptions_placed(session, start=since, end=until)
        sold = await store.sale_lines_placed(session, start=since, end=until)
    figures: dict[tuple[str, str], _Figures] = {}

    def add(key: tuple[str, str], name: str, trigger: str, order_id: str, total: int, off: int) -> None:
        entry = figures.setdefault(key, _Figures(name, trigger))
        if order_id not in entry.orders:
            entry.orders.add(order_id)
            entry.revenue += total
        entry.discount += off

    for r in redeemed:
        key = (r.promotion_id, r.currency)
        add(key, r.name or r.promotion_id, r.trigger or "code", r.order_id, r.total, r.amount)
    for line in sold:
        promotion_id = line.sale_promotion_id or UNATTRIBUTED
        name = line.sale_name or "Sales before lines named them"
        off = (line.list_unit_price - line.unit_price) * line.quantity
        add((promotion_id, line.currency), name, "sale", line.order_id, line.total, off)
    return PromotionsReport(
        from_=start,
        to=end,
        data=[
            PromotionFigures(
                promotion_id=promotion_id,
                name=f.name,
                trigger=f.trigger,
                currency=currency,
                orders=len(f.orders),
                revenue=Money(amount=f.revenue, currency=currency),
                discount=Money(amount=f.discount, currency=currency),
            )
            for (promotion_id, currency), f in sorted(
                figures.items(), key=lambda item: (-item[1].discount, item[0])
            )
        ],
    )
