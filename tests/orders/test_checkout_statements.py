"""The checkout's statement budget: what the synchronous path of one checkout may send to each database.

Counted through the real path (orders calls catalog and payments over HTTP, payments the provider
sandbox through the SDK, each on its own real database) with each service's own counters — the ones its
`/metrics` serves. A change that adds a query to the hot path fails here, and has to say why in
docs/performance.md and raise the budget on purpose.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS, card_token
from tests.orders.promotions.stored import add_promotion

# Statements that read or write data, and transactions, for a one-line checkout (add-to-cart excluded).
# PostgreSQL's one more in orders: the advisory lock that serialises the order with an erasure. Orders'
# 13th (issue 15): the invoice number, taken in the placing transaction (docs/performance.md).
STATEMENTS = {"catalog": 8, "orders": 13, "payments": 5}
TRANSACTIONS = {"catalog": 2, "orders": 3, "payments": 2}
ALL_STATEMENTS = 26
# What codes add to orders (docs/performance.md): their lookup, one SELECT with the cart's read, and in
# the pending order's transaction one INSERT of the redemptions; then per promotion applied its
# conditional UPDATE, one more for a code with its own limit (single use) and one upsert for a
# per-customer limit. Placing adds none: PromotionApplied goes to the outbox with OrderPlaced, one INSERT.
WITH_CODES = 2
PER_PROMOTION = 1
PER_LIMITED_CODE = 1
PER_CUSTOMER_LIMIT = 1


def _counters(apps: dict[str, FastAPI]) -> dict[str, tuple[int, int]]:
    return {name: (app.state.db.statements, app.state.db.transactions) for name, app in apps.items()}


async def _checkout_counted(back_office, *codes: str) -> tuple[dict[str, int], dict[str, int]]:
    """(statements, transactions) per service of one checkout of a one-line cart with `codes`."""
    apps = {
        "catalog": back_office.catalog_app,
        "orders": back_office.orders_app,
        "payments": back_office.payments_app,
    }
    customer = {"x-mercato-customer-id": new_id("cus")}
    sku = (await create_product(back_office.catalog, price=2500, stock=5))["variants"][0]["sku"]
    added = await back_office.orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)
    assert added.status_code == 200, added.text
    for code in codes:
        entered = await back_office.orders.post("/api/v1/cart/codes", json={"code": code}, headers=customer)
        assert entered.status_code == 200 and entered.json()["codes"][-1]["applied"], entered.text
    body = {"shipping_address": ADDRESS, "payment_method": card_token(sandbox=back_office.sandbox)}

    before = _counters(apps)
    placed = await back_office.orders.post(
        "/api/v1/checkout", json=body, headers=customer | {"Idempotency-Key": str(uuid.uuid4())}
    )
    after = _counters(apps)

    assert placed.status_code == 201, placed.text
    assert len(placed.json()["promotions"]) == len(codes)
    statements = {name: after[name][0] - before[name][0] for name in apps}
    transactions = {name: after[name][1] - before[name][1] for name in apps}
    return statements, transactions


async def test_a_checkout_stays_within_its_statement_budget(back_office):
    statements, transactions = await _checkout_counted(back_office)
    over = {name: (sent, STATEMENTS[name]) for name, sent in statements.items() if sent > STATEMENTS[name]}
    assert not over, f"statements over budget (sent, budget): {over}"
    assert sum(statements.values()) <= ALL_STATEMENTS, statements
    assert transactions == TRANSACTIONS, transactions


async def test_codes_add_only_their_own_statements(back_office):
    app = back_office.orders_app
    await add_promotion(app, name="Shared", codes=["BUDGET1"], usage_limit=1000)
    await add_promotion(
        app, name="Single", single_use_codes=["BUDGET-ONCE"], action={"type": "free_shipping"}
    )
    await add_promotion(
        app,
        name="Each",
        codes=["BUDGETEACH"],
        per_customer_limit=1,
        action={"type": "fixed", "target": "order", "amounts": {"EUR": 100}},
    )

    without, _ = await _checkout_counted(back_office)
    statements, transactions = await _checkout_counted(back_office, "BUDGET1", "BUDGET-ONCE", "BUDGETEACH")

    added = WITH_CODES + 3 * PER_PROMOTION + PER_LIMITED_CODE + PER_CUSTOMER_LIMIT
    assert statements == without | {"orders": without["orders"] + added}, (statements, without)
    # The cart's read, the code lookup (and a first-order check) share one transaction: none is added.
    assert transactions == TRANSACTIONS, transactions
