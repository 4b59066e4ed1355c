"""The invoice as PDF: what it says (read back with pypdf), who may fetch it — the shopper their own,
staff of operations and support, notifications over the private network — and that it is made once,
then served from the object store."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS, card_token, place_order, staff_headers
from tests.orders.invoicing.factories import fetch_pdf

SUPPORT = staff_headers(roles=("support",))
OPERATIONS = staff_headers(roles=("operations",))
MERCHANDISING = staff_headers(roles=("merchandising",))


async def _order(office, **kwargs) -> dict:
    return await place_order(orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, **kwargs)


def _customer(order: dict) -> dict[str, str]:
    return {"x-mercato-customer-id": order["customer_id"]}


async def test_the_invoice_names_seller_buyer_number_lines_tax_and_totals(back_office):
    order = await _order(back_office, price=2000, quantity=2)
    assert order["invoice_url"] == f"/api/v1/orders/{order['id']}/invoice"
    assert order["credit_notes"] == []

    text = await fetch_pdf(back_office.orders, order["invoice_url"], headers=_customer(order))

    line = order["lines"][0]
    for expected in (
        "Invoice",
        f"Number: {order['invoice_number']}",
        f"Date: {order['placed_at'][:10]}",
        f"Order: {order['number']}",
        "Mercato Demo GmbH",  # the seller, from settings
        "VAT ID: DE000000000",
        ADDRESS["name"],  # the buyer: the billing address (here the shipping address)
        ADDRESS["line1"],
        f"{ADDRESS['postal_code']} {ADDRESS['city']}",
        line["name"],
        line["sku"],
        "All amounts in EUR; prices and amounts include tax.",
        "20.00",  # the unit price
        "40.00",  # the line
        "Tax breakdown" if order.get("tax_lines") else "Total",
        f"Total {order['total']['amount'] // 100}.{order['total']['amount'] % 100:02d} EUR",
        "Paid by",
    ):
        assert expected in text, (expected, text)


async def test_the_same_invoice_is_served_again_from_the_store(back_office, tmp_path):
    order = await _order(back_office)
    first = await back_office.orders.get(order["invoice_url"], headers=_customer(order))
    market = order["invoice_number"].split("-")[0].lower()
    stored = tmp_path / "documents" / "invoices" / market / f"{order['invoice_number']}.pdf"
    assert stored.read_bytes() == first.content
    again = await back_office.orders.get(f"/admin/v1/orders/{order['id']}/invoice", headers=SUPPORT)
    assert again.content == first.content
    assert first.headers["content-disposition"] == f'inline; filename="{order["invoice_number"]}.pdf"'


async def test_only_the_orders_shopper_and_staff_who_read_orders_get_it(back_office):
    order = await _order(back_office)
    url, staff_url = order["invoice_url"], f"/admin/v1/orders/{order['id']}/invoice"

    someone_else = await back_office.orders.get(url, headers={"x-mercato-customer-id": new_id("cus")})
    assert someone_else.status_code == 404  # another's order looks like a missing one
    assert someone_else.headers["content-type"] == "application/problem+json"
    assert (await back_office.orders.get(url)).status_code == 401  # nobody signed in
    missing = await back_office.orders.get(
        f"/api/v1/orders/{new_id('ord')}/invoice", headers=_customer(order)
    )
    assert missing.status_code == 404

    for staff in (SUPPORT, OPERATIONS):
        assert (await back_office.orders.get(staff_url, headers=staff)).status_code == 200
    assert (await back_office.orders.get(staff_url, headers=MERCHANDISING)).status_code == 403
    assert (await back_office.orders.get(staff_url)).status_code == 401

    staff_view = (await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=SUPPORT)).json()
    assert (staff_view["invoice_number"], staff_view["invoice_url"]) == (order["invoice_number"], staff_url)
    internal = await back_office.orders.get(f"/internal/orders/{order['id']}/invoice")
    assert internal.status_code == 200 and internal.content.startswith(b"%PDF-")


async def test_a_guest_gets_the_invoice_by_the_orders_signed_link(back_office):
    sku = (await create_product(back_office.catalog, price=1500, stock=5))["variants"][0]["sku"]
    cart = (await back_office.orders.post("/api/v1/carts")).json()
    guest = {"X-Cart-Token": cart["cart_token"]}
    assert (
        await back_office.orders.post("/api/v1/cart/items", json={"sku": sku}, headers=guest)
    ).status_code == 200
    placed = await back_office.orders.post(
        "/api/v1/checkout",
        json={
            "shipping_address": ADDRESS,
            "email": "grace@example.com",
            "payment_method": card_token(sandbox=back_office.sandbox),
        },
        headers=guest | {"Idempotency-Key": "guest-checkout"},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    link = {"X-Order-Token": parse_qs(urlsplit(order["order_url"]).query)["t"][0]}

    text = await fetch_pdf(back_office.orders, order["invoice_url"], headers=link)
    assert order["invoice_number"] in text and "grace@example.com" in text

    other = await _order(back_office)
    forged = await back_office.orders.get(other["invoice_url"], headers=link)  # this order's link
    assert forged.status_code == 401
    assert (
        await back_office.orders.get(order["invoice_url"], headers={"X-Order-Token": "x" * 43})
    ).status_code == 401
    assert (
        await back_office.orders.get(order["invoice_url"], headers=guest)
    ).status_code == 401  # a cart is no order
