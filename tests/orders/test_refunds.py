"""Refunds from the back office: through payments and the provider SDK, idempotent by key, never more
than was captured, and nothing half-written when the provider fails."""

from __future__ import annotations

import uuid

import httpx

from mercato.platform.ids import new_id
from tests.orders.factories import (
    address,
    card_token,
    outbox_events,
    place_order,
    priced_products,
    staff_headers,
    staff_id_of,
)
from tests.orders.invoicing.factories import fetch_pdf

OPERATIONS = staff_headers(roles=("operations",))
SUPPORT = staff_headers(roles=("support",))
MERCHANDISING = staff_headers(roles=("merchandising",))
SANDBOX_SECRET = ("sk_test_mercato_sandbox", "")


async def _delivered(office, *, price: int = 3000, then: tuple[str, ...] = ()) -> dict:
    order = await place_order(
        orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, price=price
    )
    for state in ("processing", "shipped", "delivered", *then):
        shipment = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"} if state == "shipped" else {}
        moved = await office.orders.post(
            f"/admin/v1/orders/{order['id']}/transitions", json={"to": state, **shipment}, headers=OPERATIONS
        )
        assert moved.status_code == 200, moved.text
    return order


async def _refund(office, order_id: str, key: str | None, *, headers=OPERATIONS, **body) -> httpx.Response:
    body.setdefault("reason", "damaged in transit")
    return await office.orders.post(
        f"/admin/v1/orders/{order_id}/refunds",
        json=body,
        headers=headers | ({"Idempotency-Key": key} if key else {}),
    )


def _fail_next_refund(office, *, after: bool) -> None:
    """The provider answers the next refund with a 500: before making it, or (`after`) having made it."""
    fault = {"path_prefix": "/v1/refunds", "method": "POST", "mode": "error", "after": after, "count": 1}
    response = httpx.post(f"{office.sandbox}/_sandbox/faults", json=fault, auth=SANDBOX_SECRET)
    assert response.status_code == 201, response.text


def _eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


async def _trail(office, order_id: str) -> dict:
    response = await office.payments.get("/admin/v1/payments", params={"order_id": order_id}, headers=SUPPORT)
    return response.json()["data"][0]


async def test_a_partial_refund_carries_its_share_of_the_tax(back_office):
    order = await _delivered(back_office, then=("returned",))
    # €30.00 + €4.95 delivery, 19% VAT included: 3495 x 19/119 = 558.02 → 558
    assert (order["total"], order["totals"]["tax"]) == (_eur(3495), _eur(558))

    partial = await _refund(back_office, order["id"], "tax-1", amount=_eur(1000))
    assert partial.status_code == 200, partial.text
    assert partial.json()["payment"]["refunded_tax"] == _eur(160)  # 558 x 1000/3495 = 159.66
    second = await _refund(back_office, order["id"], "tax-2", amount=_eur(1000))
    assert second.json()["payment"]["refunded_tax"] == _eur(319)  # 558 x 2000/3495 = 319.31: 159 more
    rest = await _refund(back_office, order["id"], "tax-3")
    assert rest.json()["payment"]["refunded_tax"] == _eur(558)  # all of it, never a cent more
    shopper = await back_office.orders.get(
        f"/api/v1/orders/{order['id']}", headers={"x-mercato-customer-id": order["customer_id"]}
    )
    assert shopper.json()["payment"]["refunded_tax"] == _eur(558)


async def test_a_partial_refund_then_the_rest_refunds_a_returned_order(back_office):
    order = await _delivered(back_office, then=("returned",))
    total = order["total"]["amount"]  # 3000 + 495 shipping

    partial = await _refund(back_office, order["id"], "first", amount=_eur(1000), reason="one item damaged")
    assert partial.status_code == 200, partial.text
    assert partial.json()["state"] == "returned"
    assert (partial.json()["payment"]["refunded"], partial.json()["payment"]["refundable"]) == (
        _eur(1000),
        _eur(total - 1000),
    )

    rest = await _refund(back_office, order["id"], "second", reason="returned in full")
    assert rest.status_code == 200, rest.text
    body = rest.json()
    assert body["state"] == "refunded"
    assert body["payment"]["refunded"] == _eur(total) and body["payment"]["status"] == "refunded"
    last = body["history"][-1]
    assert (last["from_state"], last["state"], last["actor"], last["staff_id"]) == (
        "returned",
        "refunded",
        "staff",
        staff_id_of(OPERATIONS),
    )
    assert last["reason"] == "refunded in full: returned in full"

    refunds = [r for r in (await _trail(back_office, order["id"]))["records"] if r["kind"] == "refunded"]
    assert [(r["amount"]["amount"], r["reason"], r["staff_id"]) for r in refunds] == [
        (1000, "one item damaged", staff_id_of(OPERATIONS)),
        (total - 1000, "returned in full", staff_id_of(OPERATIONS)),
    ]
    events = await outbox_events(back_office.payments_app, "PaymentRefunded")
    assert [(e["amount"], e["total_refunded"]) for e in events] == [
        (_eur(1000), _eur(1000)),
        (_eur(total - 1000), _eur(total)),
    ]  # notifications e-mails each, with the running total
    audit = await outbox_events(back_office.payments_app, "StaffActionRecorded")
    assert [(a["action"], a["service"], a["details"]["amount"]) for a in audit] == [
        ("refund.create", "payments", 1000),
        ("refund.create", "payments", total - 1000),
    ]
    [refunded] = [
        e
        for e in await outbox_events(back_office.orders_app, "OrderStatusChanged")
        if e["to_state"] == "refunded"
    ]
    assert refunded["from_state"] == "returned"


async def test_refunding_a_delivered_order_keeps_its_state_and_never_refunds_more_than_was_captured(
    back_office,
):
    order = await _delivered(back_office)
    total = order["total"]["amount"]

    goodwill = await _refund(back_office, order["id"], "goodwill", amount=_eur(500), reason="late delivery")
    assert (goodwill.status_code, goodwill.json()["state"]) == (200, "delivered")

    too_much = await _refund(back_office, order["id"], "too-much", amount=_eur(total - 499))
    assert too_much.status_code == 422, too_much.text
    assert too_much.json()["errors"] == {"amount": f"exceeds the {total - 500} left to refund"}

    rest = await _refund(back_office, order["id"], "rest", reason="parcel lost")
    assert rest.status_code == 200, rest.text
    assert rest.json()["state"] == "delivered"  # delivered → refunded is not a move: refunded, state kept
    assert rest.json()["payment"]["refundable"] == _eur(0)

    nothing_left = await _refund(back_office, order["id"], "more", amount=_eur(1))
    assert nothing_left.status_code == 422
    nothing_at_all = await _refund(back_office, order["id"], "all-again")
    assert (nothing_at_all.status_code, nothing_at_all.json()["type"].rsplit("/", 1)[1]) == (
        409,
        "nothing-to-refund",
    )
    assert (await _trail(back_office, order["id"]))["refunded"] == _eur(total)
    assert len(await outbox_events(back_office.payments_app, "PaymentRefunded")) == 2


async def test_refunds_that_make_no_sense_are_refused_before_any_money_moves(back_office):
    order = await place_order(
        orders=back_office.orders, catalog=back_office.catalog, sandbox=back_office.sandbox
    )

    everything_before_shipping = await _refund(back_office, order["id"], "k1")
    assert everything_before_shipping.status_code == 409
    assert everything_before_shipping.json()["type"].endswith("/cancel-instead")
    other_currency = await _refund(back_office, order["id"], "k2", amount={"amount": 100, "currency": "USD"})
    assert (other_currency.status_code, other_currency.json()["errors"]) == (
        422,
        {"amount.currency": "must be EUR"},
    )
    no_key = await _refund(back_office, order["id"], None, amount=_eur(100))
    assert (no_key.status_code, no_key.json()["errors"]) == (400, {"Idempotency-Key": "is required"})
    no_reason = await back_office.orders.post(
        f"/admin/v1/orders/{order['id']}/refunds", json={}, headers=OPERATIONS | {"Idempotency-Key": "k3"}
    )
    assert no_reason.status_code == 422
    unknown = await _refund(back_office, "ord_01JD0000000000000000000000", "k4", amount=_eur(100))
    assert unknown.status_code == 404

    assert [r["kind"] for r in (await _trail(back_office, order["id"]))["records"]] == [
        "intent_created",
        "authorised",
        "captured",
    ]
    # a partial refund before shipping is fine (e.g. a price adjustment); the order goes on
    adjusted = await _refund(back_office, order["id"], "k5", amount=_eur(300), reason="price match")
    assert (adjusted.status_code, adjusted.json()["state"]) == (200, "placed")


async def test_the_same_idempotency_key_refunds_once_and_answers_the_first_response(back_office):
    order = await _delivered(back_office)

    first = await _refund(back_office, order["id"], "once", amount=_eur(700))
    again = await _refund(back_office, order["id"], "once", amount=_eur(700))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    refunds = [r for r in (await _trail(back_office, order["id"]))["records"] if r["kind"] == "refunded"]
    assert [r["amount"]["amount"] for r in refunds] == [700]
    assert len(await outbox_events(back_office.payments_app, "PaymentRefunded")) == 1

    other_body = await _refund(back_office, order["id"], "once", amount=_eur(800))
    assert other_body.status_code == 409
    assert (await _trail(back_office, order["id"]))["refunded"] == _eur(700)


async def test_when_the_provider_fails_nothing_is_written_and_a_retry_refunds_once(back_office):
    order = await _delivered(back_office)
    before = {
        "orders": await outbox_events(back_office.orders_app),
        "payments": await outbox_events(back_office.payments_app),
    }
    _fail_next_refund(back_office, after=False)

    failed = await _refund(back_office, order["id"], "flaky", amount=_eur(900))

    assert failed.status_code == 503, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    assert "same Idempotency-Key" in failed.json()["detail"]
    trail = await _trail(back_office, order["id"])
    assert (trail["refunded"], [r["kind"] for r in trail["records"]][-1]) == (_eur(0), "captured")
    detail = (await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=SUPPORT)).json()
    assert detail["payment"]["refunded"] == _eur(0)
    assert await outbox_events(back_office.orders_app) == before["orders"]
    assert await outbox_events(back_office.payments_app) == before["payments"]

    retried = await _refund(back_office, order["id"], "flaky", amount=_eur(900))
    assert retried.status_code == 200, retried.text
    assert retried.json()["payment"]["refunded"] == _eur(900)


async def test_a_refund_whose_answer_was_lost_is_recorded_by_the_retry_and_made_once(back_office):
    order = await _delivered(back_office)
    _fail_next_refund(back_office, after=True)

    lost = await _refund(back_office, order["id"], "lost", amount=_eur(1200))
    assert lost.status_code == 503  # the provider refunded, but we could not know
    retried = await _refund(back_office, order["id"], "lost", amount=_eur(1200))
    assert retried.status_code == 200, retried.text

    intent = (await _trail(back_office, order["id"]))["provider_intent_id"]
    at_provider = httpx.get(
        f"{back_office.sandbox}/v1/refunds", params={"payment_intent": intent}, auth=SANDBOX_SECRET
    ).json()["data"]
    assert [refund["amount"] for refund in at_provider] == [1200]
    assert retried.json()["payment"]["refunded"] == _eur(1200)


async def test_only_operations_refund(back_office):
    order = await _delivered(back_office)
    for roles in (("merchandising",), ("support",)):
        refused = await _refund(
            back_office, order["id"], "k", amount=_eur(100), headers=staff_headers(roles=roles)
        )
        assert refused.status_code == 403, roles
    assert (await _refund(back_office, order["id"], "k", amount=_eur(100), headers={})).status_code == 401
    no_mfa = staff_headers(roles=("operations",), mfa=False)
    assert (await _refund(back_office, order["id"], "k", amount=_eur(100), headers=no_mfa)).status_code == 401
    assert (await _trail(back_office, order["id"]))["refunded"] == _eur(0)
    by_admin = await _refund(
        back_office, order["id"], "k", amount=_eur(100), headers=staff_headers(roles=("admin",))
    )
    assert by_admin.status_code == 200


async def _bought(
    office, *, country: dict, shirts: int = 2, books: int = 1, shirts_off: int = 0
) -> tuple[dict, dict[str, str]]:
    """An order of shirts and books through the real checkout, taken through to `returned`;
    `shirts_off`: a code promotion (made in the back office) takes that much off the shirts."""
    skus = await priced_products(office.catalog)
    shopper = {"x-mercato-customer-id": new_id("cus")}
    for sku, quantity in ((skus["shirt"], shirts), (skus["book"], books)):
        added = await office.orders.post(
            "/api/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=shopper
        )
        assert added.status_code == 200, added.text
    if shirts_off:
        code = skus["shirt"].replace("-", "")
        promotion = {
            "name": "Shirts off",
            "trigger": "code",
            "conditions": {"skus": [skus["shirt"]]},
            "action": {"type": "fixed", "target": "order", "amounts": {"EUR": shirts_off}},
            "codes": [code],
        }
        made = await office.orders.post("/admin/v1/promotions", json=promotion, headers=MERCHANDISING)
        assert made.status_code == 201, made.text
        entered = await office.orders.post("/api/v1/cart/codes", json={"code": code}, headers=shopper)
        assert entered.status_code == 200, entered.text
    body = {"shipping_address": country, "payment_method": card_token(sandbox=office.sandbox)}
    placed = await office.orders.post(
        "/api/v1/checkout", json=body, headers=shopper | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201, placed.text
    for state in ("processing", "shipped", "delivered", "returned"):
        shipment = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"} if state == "shipped" else {}
        moved = await office.orders.post(
            f"/admin/v1/orders/{placed.json()['id']}/transitions",
            json={"to": state, **shipment},
            headers=OPERATIONS,
        )
        assert moved.status_code == 200, moved.text
    return placed.json(), skus


async def _credit_notes(office, order_id: str) -> list[dict]:
    detail = await office.orders.get(f"/admin/v1/orders/{order_id}", headers=SUPPORT)
    return detail.json()["credit_notes"]


async def test_returned_units_refund_what_their_line_paid_with_its_tax_where_it_is_added(back_office):
    # New York, tax added: shirts 2 x $21.00 (tax 168 of the 228), a book $10.00 (tax 40), delivery $4.99
    order, skus = await _bought(back_office, country=address("US", region="NY", postal_code="10001"))
    assert order["total"] == {"amount": 5927, "currency": "USD"}
    shirt = [{"sku": skus["shirt"], "quantity": 1}]

    first = await _refund(back_office, order["id"], "line-1", lines=shirt, reason="too small")
    assert first.status_code == 200, first.text
    assert first.json()["payment"]["refunded"]["amount"] == 2184  # (4200 + 168) x 1/2
    second = await _refund(back_office, order["id"], "line-2", lines=shirt, reason="too small")
    assert second.json()["payment"]["refunded"]["amount"] == 4368  # the line's 4368 exactly, in two refunds
    replayed = await _refund(back_office, order["id"], "line-2", lines=shirt, reason="too small")
    assert replayed.json() == second.json() and replayed.headers["Idempotent-Replayed"] == "true"

    more = await _refund(back_office, order["id"], "line-3", lines=shirt)
    assert (more.status_code, more.json()["errors"]) == (
        422,
        {"lines[0].quantity": "all are refunded already"},
    )
    book = await _refund(back_office, order["id"], "line-4", lines=[{"sku": skus["book"], "quantity": 1}])
    assert book.json()["payment"]["refunded"]["amount"] == 4368 + 1040
    assert book.json()["state"] == "returned"  # the delivery charge is not refunded by line
    notes = await _credit_notes(back_office, order["id"])
    assert [note["amount"]["amount"] for note in notes] == [2184, 2184, 1040]
    text = await fetch_pdf(back_office.orders, notes[0]["url"], headers=SUPPORT)
    assert f"Refund: too small: 1 x Quote shirt {skus['shirt'].split('-')[1]} ({skus['shirt']})" in text


async def test_a_refund_by_line_that_makes_no_sense_moves_no_money(back_office):
    order, skus = await _bought(back_office, country=address("DE"))
    cases = [
        ({"lines": [{"sku": "NOT-ON-IT", "quantity": 1}]}, {"lines[0].sku": "is not a line of this order"}),
        (
            {"lines": [{"sku": skus["shirt"], "quantity": 3}]},
            {"lines[0].quantity": "exceeds the 2 of 2 left to refund"},
        ),
        (
            {"lines": [{"sku": skus["book"], "quantity": 1}, {"sku": skus["book"], "quantity": 1}]},
            {"lines[1].sku": "is named twice"},
        ),
        (
            {"lines": [{"sku": skus["book"], "quantity": 1}], "amount": _eur(100)},
            {"lines": "cannot be sent with amount"},
        ),
    ]
    for i, (body, errors) in enumerate(cases):
        refused = await _refund(back_office, order["id"], f"bad-{i}", **body)
        assert (refused.status_code, refused.json().get("errors")) == (422, errors), body
    empty = await _refund(back_office, order["id"], "bad-empty", lines=[])
    assert empty.status_code == 422
    assert (await _trail(back_office, order["id"]))["refunded"] == _eur(0)
    # Germany, VAT included: a shirt refunds its price, the tax inside it
    one = await _refund(back_office, order["id"], "good", lines=[{"sku": skus["shirt"], "quantity": 1}])
    assert one.json()["payment"]["refunded"] == _eur(1999)


async def test_a_returned_discounted_line_gives_back_its_share_of_the_discount(back_office):
    # Germany: 3 shirts at €19.99 with €10.00 off them (a code), a book at €10.00 without
    order, skus = await _bought(back_office, country=address("DE"), shirts=3, shirts_off=1000)
    lines = {line["sku"]: line for line in order["lines"]}
    assert lines[skus["shirt"]]["discount"] == _eur(1000) and lines[skus["book"]]["discount"] == _eur(0)
    assert order["total"] == _eur(5997 - 1000 + 1000)  # delivery free from €50 (before discounts)
    shirt = skus["shirt"]

    one = await _refund(back_office, order["id"], "d-1", lines=[{"sku": shirt, "quantity": 1}])
    assert one.json()["payment"]["refunded"] == _eur(1666)  # the line paid 4997: 4997 / 3 = 1665.67
    two = await _refund(back_office, order["id"], "d-2", lines=[{"sku": shirt, "quantity": 2}])
    assert two.json()["payment"]["refunded"] == _eur(4997)  # 1666 + 3331: exactly what the line paid
    book = await _refund(back_office, order["id"], "d-3", lines=[{"sku": skus["book"], "quantity": 1}])
    assert book.json()["payment"]["refunded"] == _eur(5997)
    assert (book.json()["state"], book.json()["payment"]["refundable"]) == ("refunded", _eur(0))
    notes = await _credit_notes(back_office, order["id"])
    assert [note["amount"]["amount"] for note in notes] == [1666, 3331, 1000]
    assert sum(note["tax"]["amount"] for note in notes) == order["totals"]["tax"]["amount"]
