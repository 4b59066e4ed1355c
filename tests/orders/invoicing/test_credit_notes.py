"""Credit notes: one per refund that pays something back, numbered in the refund's transaction (gapless
per market and year, never twice for a replayed request), with the refund's share of the tax; as PDF for
the shopper and staff, referring to the invoice it corrects."""

from __future__ import annotations

from datetime import UTC, datetime

from mercato.platform.ids import new_id
from tests.orders.factories import place_order, staff_headers
from tests.orders.invoicing.factories import fetch_pdf

OPERATIONS = staff_headers(roles=("operations",))
SUPPORT = staff_headers(roles=("support",))


async def _returned(office, *, price: int = 3000) -> dict:
    order = await place_order(
        orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, price=price
    )
    for state in ("processing", "shipped", "delivered", "returned"):
        shipment = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"} if state == "shipped" else {}
        moved = await office.orders.post(
            f"/admin/v1/orders/{order['id']}/transitions", json={"to": state, **shipment}, headers=OPERATIONS
        )
        assert moved.status_code == 200, moved.text
    return order


async def _refund(office, order: dict, key: str, **body) -> dict:
    body.setdefault("reason", "one item damaged")
    refunded = await office.orders.post(
        f"/admin/v1/orders/{order['id']}/refunds", json=body, headers=OPERATIONS | {"Idempotency-Key": key}
    )
    assert refunded.status_code == 200, refunded.text
    return refunded.json()


def _prefix(order: dict) -> str:
    return f"{order['invoice_number'].split('-')[0]}-CN-{datetime.now(UTC).year}"


def _money(amount: int, currency: str) -> str:
    return f"{amount // 100}.{amount % 100:02d} {currency}"


async def test_a_partial_refund_has_a_credit_note_with_its_tax_and_the_rest_another(back_office):
    order = await _returned(back_office)
    total, currency = order["total"]["amount"], order["total"]["currency"]
    owner = {"x-mercato-customer-id": order["customer_id"]}

    first = await _refund(back_office, order, "first", amount={"amount": 1000, "currency": currency})
    replay = await _refund(back_office, order, "first", amount={"amount": 1000, "currency": currency})
    [note] = first["credit_notes"]
    assert replay["credit_notes"] == first["credit_notes"]  # a replayed refund is no second note
    assert note["number"] == f"{_prefix(order)}-00001"
    assert note["amount"] == {"amount": 1000, "currency": currency}
    assert note["url"] == f"/admin/v1/orders/{order['id']}/credit-notes/{note['number']}"

    shopper_view = (await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=owner)).json()
    [seen] = shopper_view["credit_notes"]
    assert seen["url"] == f"/api/v1/orders/{order['id']}/credit-notes/{note['number']}"
    text = await fetch_pdf(back_office.orders, seen["url"], headers=owner)
    for expected in (
        "Credit note",
        f"Number: {note['number']}",
        f"Corrects invoice: {order['invoice_number']} of {order['placed_at'][:10]}",
        f"Order: {order['number']}",
        "Refund: one item damaged",
        f"Tax refunded {_money(note['tax']['amount'], currency)}",
        f"Total refunded {_money(1000, currency)}",
    ):
        assert expected in text, (expected, text)

    rest = await _refund(back_office, order, "rest", reason="the rest back")
    notes = rest["credit_notes"]
    assert [n["number"] for n in notes] == [f"{_prefix(order)}-00001", f"{_prefix(order)}-00002"]
    assert sum(n["amount"]["amount"] for n in notes) == total
    tax = sum(line["amount"]["amount"] for line in order.get("tax_lines", []))
    assert sum(n["tax"]["amount"] for n in notes) == tax  # in all, exactly the tax the order carried


async def test_a_cancelled_order_is_credited_in_full_and_only_its_shopper_and_staff_see_it(back_office):
    order = await place_order(
        orders=back_office.orders, catalog=back_office.catalog, sandbox=back_office.sandbox
    )
    owner = {"x-mercato-customer-id": order["customer_id"]}
    cancelled = await back_office.orders.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner)
    assert cancelled.status_code == 200, cancelled.text
    [note] = cancelled.json()["credit_notes"]
    assert note["amount"] == order["total"]

    assert (await back_office.orders.get(note["url"], headers=owner)).status_code == 200
    stranger = {"x-mercato-customer-id": new_id("cus")}
    assert (await back_office.orders.get(note["url"], headers=stranger)).status_code == 404
    staff_url = f"/admin/v1/orders/{order['id']}/credit-notes/{note['number']}"
    assert (await back_office.orders.get(staff_url, headers=SUPPORT)).status_code == 200
    unknown = f"/api/v1/orders/{order['id']}/credit-notes/{_prefix(order)}-00099"
    assert (await back_office.orders.get(unknown, headers=owner)).status_code == 404
    malformed = f"/api/v1/orders/{order['id']}/credit-notes/..%2F..%2Fsecret"
    assert (await back_office.orders.get(malformed, headers=owner)).status_code in (404, 422)
