"""The promotions report over a known data set, to the cent: per promotion and currency, the placed
orders it applied to, their revenue and its cost — cart promotions from their redemptions, sales from
the lines sold below their list price."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
from sqlalchemy import select, update

from mercato.platform.ids import new_id
from mercato.platform.messaging import Delivery
from mercato.platform.tables import outbox
from mercato.services.orders.models import Order, OrderLine
from mercato.services.orders.promotions.models import PromotionRedemption
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS, add_order, card_token, staff_headers
from tests.orders.promotions.backoffice import MERCHANDISING, create, office

__all__ = ["office"]  # the fixture

COAT, SHIRT, MUG = "prod_coat", "prod_shirt", "prod_mug"


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


async def _order(
    app,
    *,
    placed_at: datetime | None,
    total: int,
    lines: list[tuple[str, int, int | None, int]],
    redeemed: dict[str, int] = {},  # noqa: B006 (read only)
    sales: dict[str, tuple[str, str]] = {},  # noqa: B006 (read only)
    currency: str = "EUR",
) -> str:
    """An order as checkout leaves it: `lines` (product, unit price, list price or None, quantity), the
    sale that priced a product's line (product → (promotion id, name)), its total after discounts, and
    the promotions it redeemed (id → amount)."""
    order_id = await add_order(
        app,
        placed_at=placed_at,
        lines=[(product, product, price, quantity) for product, price, _, quantity in lines],
        currency=currency,
        state="delivered" if placed_at else "failed",
    )
    async with app.state.db.unit_of_work() as session:
        await session.execute(update(Order).where(Order.id == order_id).values(total=total))
        for product, _, list_price, _ in lines:
            await session.execute(
                update(OrderLine)
                .where(OrderLine.order_id == order_id, OrderLine.product_id == product)
                .values(
                    list_unit_price=list_price,
                    sale_promotion_id=sales.get(product, (None, None))[0],
                    sale_name=sales.get(product, (None, None))[1],
                )
            )
        session.add_all(
            PromotionRedemption(
                order_id=order_id,
                promotion_id=promotion_id,
                code=None,
                buyer_key="cus_x",
                amount=amount,
                currency=currency,
                created_at=placed_at or at(1),
            )
            for promotion_id, amount in redeemed.items()
        )
    return order_id


async def test_revenue_and_discount_cost_per_promotion_and_currency(office):
    ten = (await create(office, name="Ten off", codes=["TEN"]))["id"]
    ship = (
        await create(
            office, name="Free shipping", trigger="automatic", codes=[], action={"type": "free_shipping"}
        )
    )["id"]
    sale = {"trigger": "sale", "codes": []}
    coats = (
        await create(
            office,
            name="Coats -20%",
            **sale,
            action={"type": "percentage", "percent": "20"},
            conditions={"product_ids": [COAT], "markets": ["eu"]},
        )
    )["id"]
    shirts = (
        await create(
            office,
            name="Shirts -5",
            **sale,
            action={"type": "fixed", "amounts": {"EUR": 500}},
            conditions={"product_ids": [SHIRT]},
        )
    )["id"]
    app = office.app
    # 1 March: a coat and two shirts on sale, ten off by code and free shipping: 12000 - 1200 + 495 - 495
    await _order(
        app,
        placed_at=at(1),
        total=10800,
        lines=[(COAT, 8000, 10000, 1), (SHIRT, 2000, 2500, 2)],
        redeemed={ten: 1200, ship: 495},
        sales={COAT: (coats, "Coats -20%"), SHIRT: (shirts, "Shirts -5")},
    )
    await _order(app, placed_at=at(3), total=2997, lines=[(MUG, 3330, None, 1)], redeemed={ten: 333})
    await _order(
        app, placed_at=at(2), total=2250, lines=[(MUG, 2500, None, 1)], redeemed={ten: 250}, currency="GBP"
    )
    # a coat sold below its list price before order lines named their sale
    await _order(app, placed_at=at(2), total=7000, lines=[(COAT, 7000, 10000, 1)])
    # not counted: a checkout that failed, an order placed before the range
    await _order(app, placed_at=None, total=900, lines=[(MUG, 999, None, 1)], redeemed={ten: 99})
    await _order(app, placed_at=at(28, 2), total=900, lines=[(COAT, 8000, 10000, 1)], redeemed={ten: 100})

    answer = await office.get(
        "/admin/v1/reports/promotions",
        params={"from": "2026-03-01", "to": "2026-03-31"},
        headers=MERCHANDISING,
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["from"], report["to"]) == ("2026-03-01", "2026-03-31")
    figures = {
        (r["promotion_id"], r["currency"]): (
            r["name"],
            r["trigger"],
            r["orders"],
            r["revenue"],
            r["discount"],
        )
        for r in report["data"]
    }

    def money(amount: int, currency: str = "EUR") -> dict:
        return {"amount": amount, "currency": currency}

    assert figures == {
        (ten, "EUR"): ("Ten off", "code", 2, money(10800 + 2997), money(1200 + 333)),
        (ten, "GBP"): ("Ten off", "code", 1, money(2250, "GBP"), money(250, "GBP")),
        (ship, "EUR"): ("Free shipping", "automatic", 1, money(10800), money(495)),
        (coats, "EUR"): ("Coats -20%", "sale", 1, money(10800), money(2000)),
        (shirts, "EUR"): ("Shirts -5", "sale", 1, money(10800), money(2 * 500)),
        ("unattributed-sale", "EUR"): ("Sales before lines named them", "sale", 1, money(7000), money(3000)),
    }
    # the costliest first
    assert [r["discount"]["amount"] for r in report["data"]] == [3000, 2000, 1533, 1000, 495, 250]


async def test_the_report_is_for_merchandising_and_operations_over_a_sane_range(office):
    operations = staff_headers(roles=("operations",))
    empty = await office.get("/admin/v1/reports/promotions", headers=operations)
    assert empty.status_code == 200 and empty.json()["data"] == []
    support = staff_headers(roles=("support",))
    assert (await office.get("/admin/v1/reports/promotions", headers=support)).status_code == 403
    backwards = await office.get(
        "/admin/v1/reports/promotions", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=operations
    )
    assert backwards.status_code == 422 and "from" in backwards.json()["errors"]
    assert (
        await office.get("/admin/v1/reports/promotions", params={"from": "yesterday"}, headers=operations)
    ).status_code == 422


async def test_a_sale_set_in_the_back_office_is_priced_by_catalog_and_counted_in_the_report(back_office):
    """The sale's CataloguePromotionsChanged, as orders put it on its outbox, delivered to catalog's
    consumer; a shopper buys two units at the sale price; the report credits the sale to the cent."""
    product = await create_product(back_office.catalog, price=2999, stock=10)
    created = await back_office.orders.post(
        "/admin/v1/promotions",
        json={
            "name": "Spring sale",
            "trigger": "sale",
            "action": {"type": "percentage", "percent": "15"},
            "conditions": {"product_ids": [product["id"]]},
        },
        headers=MERCHANDISING,
    )
    assert created.status_code == 201, created.text
    async with back_office.orders_app.state.db.read() as session:
        [envelope] = (
            await session.scalars(
                select(outbox.c.envelope).where(outbox.c.event_type == "CataloguePromotionsChanged")
            )
        ).all()
    await back_office.catalog_app.state.consumer.on_deliveries([Delivery(orjson.dumps(envelope))])

    shopper = {"x-mercato-customer-id": new_id("cus")}
    sku = product["variants"][0]["sku"]
    added = await back_office.orders.post(
        "/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper
    )
    [line] = added.json()["lines"]
    assert (line["unit_price"]["amount"], line["list_unit_price"]["amount"]) == (2549, 2999)  # 449.85 ↑ 450
    placed = await back_office.orders.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": card_token(sandbox=back_office.sandbox)},
        headers=shopper | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text

    report = await back_office.orders.get("/admin/v1/reports/promotions", headers=MERCHANDISING)
    [row] = report.json()["data"]
    assert (row["promotion_id"], row["trigger"], row["orders"], row["revenue"], row["discount"]) == (
        created.json()["id"],
        "sale",
        1,
        placed.json()["total"],
        {"amount": 2 * 450, "currency": "EUR"},
    )
