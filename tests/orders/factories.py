"""Keyword-only factories for orders tests: staff claims, orders bought through the real checkout, orders
written straight into the database for reports, and the outbox."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.platform.ids import new_id
from mercato.platform.tables import outbox
from mercato.services.orders.models import Order, OrderLine, OrderStateChange
from tests.catalog.factories import create_product

_counter = itertools.count(1)

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Analytische Str. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def staff_headers(
    *, roles: tuple[str, ...] = ("operations",), mfa: bool = True, staff_id: str | None = None
) -> dict[str, str]:
    """The claims header the gateway forwards for a verified staff token (base64url JSON)."""
    claims = {"sub": staff_id or new_id("stf"), "roles": list(roles), "mfa": mfa, "amr": ["pwd", "otp"]}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {STAFF_CLAIMS_HEADER: encoded}


def staff_id_of(headers: dict[str, str]) -> str:
    raw = headers[STAFF_CLAIMS_HEADER]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["sub"]


def card_token(*, sandbox: str, number: str = "4242424242424242") -> str:
    """A PaymentMethod made at the provider with the publishable key, as a browser would."""
    response = httpx.post(
        f"{sandbox}/v1/payment_methods",
        headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2031",
            "card[cvc]": "123",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def place_order(
    *,
    orders: httpx.AsyncClient,
    catalog: httpx.AsyncClient,
    sandbox: str,
    customer_id: str | None = None,
    price: int = 2000,
    quantity: int = 1,
) -> dict:
    """An order bought through the real checkout: catalog reserves, payments captures at the sandbox."""
    customer = {"x-mercato-customer-id": customer_id or new_id("cus")}
    sku = (await create_product(catalog, price=price, stock=quantity + 5))["variants"][0]["sku"]
    added = await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=customer)
    assert added.status_code == 200, added.text
    body = {"shipping_address": ADDRESS, "payment_method": card_token(sandbox=sandbox)}
    placed = await orders.post(
        "/api/v1/checkout", json=body, headers=customer | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201, placed.text
    return placed.json() | {"customer_id": customer["x-mercato-customer-id"]}


async def add_order(
    app: FastAPI,
    *,
    placed_at: datetime | None,
    lines: list[tuple[str, str, int, int]],
    state: str = "delivered",
    shipping: int = 0,
    refunded: int = 0,
    currency: str = "EUR",
    customer_id: str | None = None,
) -> str:
    """An order written straight into the orders database (for reports over a known data set).
    `lines`: (product_id, name, unit_price, quantity)."""
    at = placed_at or datetime.now(UTC)
    order_id = new_id("ord", at_ms=int(at.timestamp() * 1000))  # as checkout's: ids follow time
    subtotal = sum(price * quantity for _, _, price, quantity in lines)
    async with app.state.db.unit_of_work() as session:
        session.add(
            Order(
                id=order_id,
                customer_id=customer_id or new_id("cus"),
                state=state,
                currency=currency,
                subtotal=subtotal,
                shipping=shipping,
                total=subtotal + shipping,
                shipping_address=ADDRESS,
                payment_method="pm_test",
                idempotency_key=f"key-{next(_counter)}",
                request_hash="0" * 64,
                payment_status="captured",
                refunded=refunded,
                created_at=at,
                updated_at=at,
                placed_at=placed_at,
            )
        )
        await session.flush()
        session.add_all(
            OrderLine(
                order_id=order_id,
                sku=f"SKU-{next(_counter)}",
                product_id=product_id,
                product_name=name,
                attributes={},
                image_url=None,
                unit_price=price,
                quantity=quantity,
            )
            for product_id, name, price, quantity in lines
        )
        session.add(
            OrderStateChange(order_id=order_id, from_state=None, to_state=state, reason="test", at=at)
        )
    return order_id


async def outbox_events(app: FastAPI, event_type: str | None = None) -> list[dict[str, Any]]:
    """Payloads staged in the app's outbox, in order, each with its `type` added."""
    async with app.state.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [
        row["envelope"]["payload"] | {"type": row["event_type"]}
        for row in rows
        if event_type is None or row["event_type"] == event_type
    ]


def address(country: str, *, region: str | None = None, postal_code: str = "10115") -> dict[str, str]:
    """A shipping address in `country` (a US one with its state)."""
    return ADDRESS | {"country": country, "postal_code": postal_code} | ({"region": region} if region else {})


async def priced_products(catalog: httpx.AsyncClient) -> dict[str, str]:
    """SKUs by kind, priced in the three markets' currencies: a shirt (standard rate, 300 g), a book
    (reduced rate, 500 g), and a candle sold in euros only."""

    def variant(sku: str, prices: dict[str, int], weight: int) -> dict[str, Any]:
        return {
            "sku": sku,
            "attributes": {"size": "One"},
            "prices": [{"amount": amount, "currency": currency} for currency, amount in prices.items()],
            "stock": 50,
            "weight_grams": weight,
        }

    n = next(_counter)
    skus = {"shirt": f"QS-{n}-SHIRT", "book": f"QS-{n}-BOOK", "candle": f"QS-{n}-CANDLE"}
    for kind, prices, weight, tax_class in [
        ("shirt", {"EUR": 1999, "GBP": 1799, "USD": 2100}, 300, "standard"),
        ("book", {"EUR": 1000, "GBP": 900, "USD": 1000}, 500, "reduced"),
        ("candle", {"EUR": 1500}, 400, "standard"),
    ]:
        await create_product(
            catalog,
            variants=[variant(skus[kind], prices, weight)],
            tax_class=tax_class,
            name=f"Quote {kind} {n}",
        )
    return skus
