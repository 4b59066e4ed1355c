"""Keyword-only factories for invoicing tests: an order's PDFs fetched and read back as text (pypdf), and
an invoiced order written straight into the database."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from pypdf import PdfReader

from mercato.platform.ids import new_id
from mercato.services.orders.models import Order, OrderLine


def pdf_text(data: bytes) -> str:
    """Every page's text as a reader (pypdf) extracts it, each run of white space one space."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


async def fetch_pdf(client: httpx.AsyncClient, url: str, *, headers: dict[str, str]) -> str:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    return pdf_text(response.content)


BERLIN = {
    "name": "Grace Hopper",
    "line1": "Invalidenstraße 44",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


async def add_invoiced_order(
    app: FastAPI, *, invoice_number: str, customer_id: str, billing_address: dict[str, Any] = BERLIN
) -> str:
    """A placed German order with its invoice number, written straight into the orders database (for a
    service that only reads it): 2 T-shirts at 19 % VAT and a book at 7 %, prices including VAT, as
    checkout's quote snapshots them."""
    at = datetime.now(UTC)
    order_id = new_id("ord")
    async with app.state.db.unit_of_work() as session:
        session.add(
            Order(
                id=order_id,
                customer_id=customer_id,
                state="placed",
                currency="EUR",
                subtotal=7498,
                shipping=0,
                total=7498,
                tax=1056,
                tax_lines=[
                    {"rate": "19", "label": "VAT", "amount": 958},
                    {"rate": "7", "label": "VAT", "amount": 98},
                ],
                market_id="eu",
                country="DE",
                prices_include_tax=True,
                shipping_address=billing_address,
                billing_address=billing_address,
                payment_method="pm_test",
                idempotency_key=new_id("key"),
                request_hash="0" * 64,
                payment_status="captured",
                card_brand="visa",
                card_last4="4242",
                refunded=0,
                created_at=at,
                updated_at=at,
                placed_at=at,
                number=10042,
                invoice_number=invoice_number,
            )
        )
        await session.flush()
        line = {"order_id": order_id, "image_url": None, "product_id": new_id("prd")}
        session.add_all(
            [
                OrderLine(
                    **line, sku="TEE-BLK-M", product_name="Classic Tee", attributes={"size": "M"},
                    unit_price=2999, quantity=2, line_total=5998, tax=958, tax_rate="19",
                ),
                OrderLine(
                    **line, sku="BOOK-1", product_name="Notes on Engines", attributes={},
                    unit_price=1500, quantity=1, line_total=1500, tax=98, tax_rate="7",
                ),
            ]
        )  # fmt: skip
    return order_id
