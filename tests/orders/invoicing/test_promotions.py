"""An invoice of an order sold with promotions and paid partly by gift card, as a PDF reader reads it:
each line's discount in its own column and the amount it was taxed on, shipping made free by a
promotion, the promotions (and codes) under the Discount row, and the gift card's and the card's
shares of the payment. An order without promotions keeps the invoice it always had."""

from __future__ import annotations

from datetime import UTC, datetime

from mercato.services.orders.invoicing.content import invoice_document
from mercato.services.orders.invoicing.render import Fonts, render
from mercato.services.orders.models import Order, OrderLine
from mercato.services.orders.settings import OrdersSettings
from tests.orders.invoicing.factories import BERLIN, pdf_text

SETTINGS = OrdersSettings()
FONTS = Fonts(regular=SETTINGS.invoice_font, bold=SETTINGS.invoice_font_bold)
METHOD = {
    "id": "std",
    "name": "Standard",
    "kind": "standard",
    "price": 495,
    "tax": 0,
    "tax_rate": "19",
    "estimate": {"min_days": 2, "max_days": 4},
}


def _order(*, discount: int, promotions: list, tenders: list) -> Order:
    at = datetime(2026, 12, 5, 12, tzinfo=UTC)
    return Order(
        id="ord_1", customer_id="cus_1", state="placed", currency="EUR", subtotal=7498, shipping=495,
        discount=discount, total=7498 + 495 - discount, tax=1000, market_id="eu", country="DE",
        prices_include_tax=True, shipping_address=BERLIN, billing_address=BERLIN, payment_method="pm_test",
        idempotency_key="k", request_hash="0" * 64, card_brand="visa", card_last4="4242", refunded=0,
        created_at=at, updated_at=at, placed_at=at, number=10042, invoice_number="EU-2026-00042",
        shipping_method=METHOD, tax_lines=[{"rate": "19", "label": "VAT", "amount": 1000}],
        promotions=promotions, tenders=tenders,
    )  # fmt: skip


def _lines(*, tee_discount: int) -> list[OrderLine]:
    common = {"order_id": "ord_1", "image_url": None, "product_id": "prd_1", "tax_rate": "19", "tax": 500}
    return [
        OrderLine(
            **common, sku="TEE-BLK-M", product_name="Classic Tee", attributes={"size": "M"},
            unit_price=2999, quantity=2, line_total=5998, discount=tee_discount, list_unit_price=3499,
        ),
        OrderLine(
            **common, sku="BOOK-1", product_name="Notes on Engines", attributes={},
            unit_price=1500, quantity=1, line_total=1500, discount=0,
        ),
    ]  # fmt: skip


def test_the_invoice_shows_line_discounts_the_promotions_and_the_gift_card_payment():
    order = _order(
        discount=600 + 495,
        promotions=[
            {"promotion_id": "prm_1", "name": "Ten off tees", "code": "TEN", "amount": 600,
             "shipping_amount": 0},
            {"promotion_id": "prm_2", "name": "Free delivery", "code": None, "amount": 495,
             "shipping_amount": 495},
        ],
        tenders=[
            {"kind": "gift_card", "gift_card_id": "gft_1", "last4": "ABCD", "amount": 2000},
            {"kind": "card", "amount": 4898},
        ],
    )  # fmt: skip

    text = pdf_text(render(invoice_document(order, _lines(tee_discount=600), SETTINGS), FONTS))

    assert "Unit price Discount Tax rate" in text  # the column, for the rows a promotion touched
    assert "2 29.99 -6.00 19 % 5.00 53.98" in text  # 59.98 less 6.00: what the tee's line was taxed on
    assert "1 15.00 19 % 5.00 15.00" in text  # the book: no discount, nothing in the column
    assert "Shipping: Standard 1 4.95 -4.95 19 % 0.00 0.00" in text  # made free by a promotion
    assert "Subtotal 74.98 EUR Discount -10.95 EUR" in text
    assert "Ten off tees (code TEN) -6.00 EUR" in text and "Free delivery -4.95 EUR" in text
    assert "Total 68.98 EUR" in text
    assert "Paid by gift card ••••ABCD: 20.00 EUR." in text
    assert "Paid by card (Visa ending 4242): 48.98 EUR." in text


def test_an_invoice_without_promotions_has_no_discount_column_and_one_payment():
    order = _order(discount=0, promotions=[], tenders=[])

    text = pdf_text(render(invoice_document(order, _lines(tee_discount=0), SETTINGS), FONTS))

    assert "Description Qty Unit price Tax rate Tax Amount" in text
    assert "Discount" not in text
    assert "2 29.99 19 % 5.00 59.98" in text
    assert "Paid by Visa ending 4242." in text and "gift card" not in text
