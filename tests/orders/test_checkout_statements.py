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

# Statements that read or write data, and transactions, for a one-line checkout (add-to-cart excluded).
# PostgreSQL's one more in orders: the advisory lock that serialises the order with an erasure. Orders'
# 13th (issue 15): the invoice number, taken in the placing transaction (docs/performance.md).
STATEMENTS = {"catalog": 8, "orders": 13, "payments": 5}
TRANSACTIONS = {"catalog": 2, "orders": 3, "payments": 2}
ALL_STATEMENTS = 26


def _counters(apps: dict[str, FastAPI]) -> dict[str, tuple[int, int]]:
    return {name: (app.state.db.statements, app.state.db.transactions) for name, app in apps.items()}


async def test_a_checkout_stays_within_its_statement_budget(back_office):
    apps = {
        "catalog": back_office.catalog_app,
        "orders": back_office.orders_app,
        "payments": back_office.payments_app,
    }
    customer = {"x-mercato-customer-id": new_id("cus")}
    sku = (await create_product(back_office.catalog, price=2500, stock=5))["variants"][0]["sku"]
    added = await back_office.orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)
    assert added.status_code == 200, added.text
    body = {"shipping_address": ADDRESS, "payment_method": card_token(sandbox=back_office.sandbox)}

    before = _counters(apps)
    placed = await back_office.orders.post(
        "/api/v1/checkout", json=body, headers=customer | {"Idempotency-Key": str(uuid.uuid4())}
    )
    after = _counters(apps)

    assert placed.status_code == 201, placed.text
    statements = {name: after[name][0] - before[name][0] for name in apps}
    transactions = {name: after[name][1] - before[name][1] for name in apps}
    over = {name: (sent, STATEMENTS[name]) for name, sent in statements.items() if sent > STATEMENTS[name]}
    assert not over, f"statements over budget (sent, budget): {over}"
    assert sum(statements.values()) <= ALL_STATEMENTS, statements
    assert transactions == TRANSACTIONS, transactions
