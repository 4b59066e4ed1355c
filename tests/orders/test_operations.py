"""The back office's orders: look-up by support and operations, fulfilment transitions by operations,
each audited and each telling the customer (through OrderStatusChanged)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mercato.platform.ids import new_id
from tests.orders.factories import (
    add_order,
    card_token,
    outbox_events,
    place_order,
    staff_headers,
    staff_id_of,
)

OPERATIONS = staff_headers(roles=("operations",))
SUPPORT = staff_headers(roles=("support",))


async def _order(office, **kwargs) -> dict:
    return await place_order(orders=office.orders, catalog=office.catalog, sandbox=office.sandbox, **kwargs)


async def _move(office, order_id: str, to: str, headers=OPERATIONS, **body):
    return await office.orders.post(
        f"/admin/v1/orders/{order_id}/transitions", json={"to": to, **body}, headers=headers
    )


async def _to(office, order_id: str, *states: str) -> dict:
    """Walk the order through `states` (shipping with a carrier and tracking number)."""
    response = None
    for state in states:
        shipment = {"carrier": "DHL", "tracking_number": "JJD000390007"} if state == "shipped" else {}
        response = await _move(office, order_id, state, **shipment)
        assert response.status_code == 200, response.text
    assert response is not None
    return response.json()


async def test_operations_ship_an_order_the_customer_is_told_and_the_audit_trail_names_them(back_office):
    order = await _order(back_office)
    await _to(back_office, order["id"], "confirmed", "processing")

    shipped = await _move(
        back_office,
        order["id"],
        "shipped",
        carrier="  DHL Express ",
        tracking_number="jjd-0003900077",
        reason="left the warehouse",
    )

    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert (body["state"], body["carrier"], body["tracking_number"]) == (
        "shipped",
        "DHL Express",
        "JJD-0003900077",
    )
    last = body["history"][-1]
    assert (last["from_state"], last["state"], last["reason"], last["actor"]) == (
        "processing",
        "shipped",
        "left the warehouse",
        "staff",
    )
    assert last["staff_id"] == staff_id_of(OPERATIONS)
    assert [(e["from_state"], e["state"], e["actor"]) for e in body["history"][:2]] == [
        (None, "pending_payment", "customer"),
        ("pending_payment", "placed", "customer"),
    ]
    [event] = [
        e
        for e in await outbox_events(back_office.orders_app, "OrderStatusChanged")
        if e["to_state"] == "shipped"
    ]
    assert (event["order_id"], event["customer_id"], event["from_state"]) == (
        order["id"],
        order["customer_id"],
        "processing",
    )
    assert (event["carrier"], event["tracking_number"]) == ("DHL Express", "JJD-0003900077")
    audit = [e for e in await outbox_events(back_office.orders_app, "StaffActionRecorded")]
    assert [(a["action"], a["service"], a["target_id"]) for a in audit] == [
        ("order.confirm", "orders", order["id"]),
        ("order.process", "orders", order["id"]),
        ("order.ship", "orders", order["id"]),
    ]
    assert audit[-1]["staff_id"] == staff_id_of(OPERATIONS)
    assert audit[-1]["details"] == {
        "from": "processing",
        "to": "shipped",
        "reason": "left the warehouse",
        "carrier": "DHL Express",
        "tracking_number": "JJD-0003900077",
    }


async def test_the_shopper_sees_the_carrier_by_its_name_with_a_link_to_its_tracking_page(back_office):
    order = await _order(back_office)
    customer = {"x-mercato-customer-id": order["customer_id"]}
    before = (await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=customer)).json()
    assert (before["carrier"], before["tracking_number"], before["tracking_url"]) == (None, None, None)
    await _to(back_office, order["id"], "processing")

    shipped = await _move(back_office, order["id"], "shipped", carrier=" fedex ", tracking_number="7946 0000")
    assert shipped.status_code == 422  # no spaces in a tracking number
    shipped = await _move(
        back_office, order["id"], "shipped", carrier=" fedex ", tracking_number="794600001234"
    )
    assert shipped.status_code == 200, shipped.text
    fedex = "https://www.fedex.com/fedextrack/?trknbr=794600001234"
    assert (shipped.json()["carrier"], shipped.json()["tracking_url"]) == ("FedEx", fedex)
    seen = (await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=customer)).json()
    assert (seen["carrier"], seen["tracking_number"], seen["tracking_url"]) == (
        "FedEx",
        "794600001234",
        fedex,
    )
    [event] = [
        e
        for e in await outbox_events(back_office.orders_app, "OrderStatusChanged")
        if e["to_state"] == "shipped"
    ]
    assert event["carrier"] == "FedEx"
    again = await _move(back_office, order["id"], "shipped", carrier="FEDEX", tracking_number="794600001234")
    assert again.status_code == 200  # the same shipment, however the carrier is spelt


async def test_a_carrier_outside_the_table_is_kept_as_typed_without_a_link(back_office):
    order = await _order(back_office)
    await _to(back_office, order["id"], "processing")
    shipped = await _move(
        back_office, order["id"], "shipped", carrier="Fahrradkurier Kiez", tracking_number="FK-2211"
    )
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert (body["carrier"], body["tracking_number"], body["tracking_url"]) == (
        "Fahrradkurier Kiez",
        "FK-2211",
        None,
    )


async def test_shipping_needs_a_carrier_and_a_valid_tracking_number(back_office):
    order = await _order(back_office)
    await _to(back_office, order["id"], "processing")
    cases = [
        ({}, {"carrier": "is required to ship", "tracking_number": "is required to ship"}),
        ({"carrier": "DHL"}, {"tracking_number": "is required to ship"}),
        ({"carrier": "DHL", "tracking_number": "12"}, None),
        ({"carrier": "DHL", "tracking_number": "JJD 0003 9000"}, None),
        ({"carrier": "<b>", "tracking_number": "JJD000390007"}, None),
    ]
    for shipment, errors in cases:
        refused = await _move(back_office, order["id"], "shipped", **shipment)
        assert refused.status_code == 422, (shipment, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        if errors:
            assert refused.json()["errors"] == errors
    tracking_elsewhere = await _move(back_office, order["id"], "delivered", tracking_number="JJD000390007")
    assert tracking_elsewhere.status_code == 422
    not_for_staff = await _move(back_office, order["id"], "refunded")
    assert not_for_staff.status_code == 422
    detail = (await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=SUPPORT)).json()
    assert (detail["state"], detail["carrier"]) == ("processing", None)
    assert not [
        e
        for e in await outbox_events(back_office.orders_app, "OrderStatusChanged")
        if e["to_state"] == "shipped"
    ]


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "delivered"),  # placed: not shipped yet
        ((), "returned"),
        (("processing", "shipped"), "cancelled"),  # too late to cancel
        (("processing", "shipped", "delivered"), "processing"),
    ],
)
async def test_a_change_the_state_machine_does_not_allow_is_a_409_and_changes_nothing(back_office, path, to):
    order = await _order(back_office)
    if path:
        await _to(back_office, order["id"], *path)
    before = await outbox_events(back_office.orders_app)

    refused = await _move(back_office, order["id"], to)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/illegal-state-change")
    assert await outbox_events(back_office.orders_app) == before


async def test_asking_again_for_the_state_the_order_is_in_is_a_no_op(back_office):
    order = await _order(back_office)
    await _to(back_office, order["id"], "processing", "shipped")
    events = await outbox_events(back_office.orders_app)

    again = await _move(back_office, order["id"], "shipped", carrier="DHL", tracking_number="jjd000390007")
    assert again.status_code == 200, again.text
    assert again.json()["state"] == "shipped"
    assert await outbox_events(back_office.orders_app) == events  # no second event, e-mail or audit entry

    other_parcel = await _move(
        back_office, order["id"], "shipped", carrier="DHL", tracking_number="JJD999999999"
    )
    assert other_parcel.status_code == 409
    assert other_parcel.json()["tracking_number"] == "JJD000390007"


async def test_staff_cancel_before_shipping_refunds_in_full_and_a_retry_changes_nothing(back_office):
    order = await _order(back_office, price=3000)
    await _to(back_office, order["id"], "processing")

    cancelled = await _move(back_office, order["id"], "cancelled", reason="out of stock at the warehouse")

    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["state"] == "refunded"  # cancelled, then refunded in full straight away
    assert body["payment"]["refunded"] == order["total"]
    assert body["payment"]["refundable"]["amount"] == 0
    assert [(e["state"], e["actor"], e["staff_id"]) for e in body["history"][-2:]] == [
        ("cancelled", "staff", staff_id_of(OPERATIONS)),
        ("refunded", "staff", staff_id_of(OPERATIONS)),
    ]
    changes = await outbox_events(back_office.orders_app, "OrderStatusChanged")
    # catalog restocks on the cancellation's event; notifications e-mails the customer with its reason
    assert [(e["to_state"], e["reason"]) for e in changes][-2:] == [
        ("cancelled", "out of stock at the warehouse"),
        ("refunded", "refunded after cancellation"),
    ]
    trail = (
        await back_office.payments.get(
            "/admin/v1/payments", params={"order_id": order["id"]}, headers=SUPPORT
        )
    ).json()["data"][0]
    [refund] = [r for r in trail["records"] if r["kind"] == "refunded"]
    assert (refund["amount"], refund["reason"], refund["staff_id"]) == (
        order["total"],
        "order_cancelled",
        staff_id_of(OPERATIONS),
    )

    events = await outbox_events(back_office.orders_app)
    again = await _move(back_office, order["id"], "cancelled")
    assert (again.status_code, again.json()["state"]) == (200, "refunded")
    assert await outbox_events(back_office.orders_app) == events


async def test_support_reads_orders_but_only_operations_change_them(back_office):
    order = await _order(back_office)
    url = f"/admin/v1/orders/{order['id']}"
    for roles, status in [
        (("support",), 200),
        (("operations",), 200),
        (("admin",), 200),
        (("merchandising",), 403),
    ]:
        assert (await back_office.orders.get(url, headers=staff_headers(roles=roles))).status_code == status
        listed = await back_office.orders.get("/admin/v1/orders", headers=staff_headers(roles=roles))
        assert listed.status_code == status

    by_support = await _move(back_office, order["id"], "processing", headers=SUPPORT)
    assert by_support.status_code == 403
    assert by_support.headers["content-type"] == "application/problem+json"
    by_admin = await _move(back_office, order["id"], "processing", headers=staff_headers(roles=("admin",)))
    assert by_admin.status_code == 200
    assert (await back_office.orders.get(url)).status_code == 401
    assert (
        await back_office.orders.get(url, headers=staff_headers(roles=("support",), mfa=False))
    ).status_code == 401
    assert (await _move(back_office, order["id"], "shipped", headers={})).status_code == 401
    assert (
        await back_office.orders.get(f"/admin/v1/orders/{new_id('ord')}", headers=SUPPORT)
    ).status_code == 404


async def test_the_detail_has_lines_totals_address_payment_and_a_failed_checkout_says_why(back_office):
    order = await _order(back_office, price=2500, quantity=2)
    detail = (await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=SUPPORT)).json()
    assert detail["customer_id"] == order["customer_id"]
    assert [(line["quantity"], line["unit_price"]["amount"]) for line in detail["lines"]] == [(2, 2500)]
    assert (detail["subtotal"]["amount"], detail["shipping"]["amount"], detail["total"]["amount"]) == (
        5000,
        0,
        5000,
    )
    assert detail["shipping_address"]["city"] == "Berlin"
    assert detail["billing_address"] == detail["shipping_address"]  # the same, as none was given
    # Free standard delivery from €50; 5000 x 19/119 = 798.32 VAT included.
    assert (detail["shipping_method"]["id"], detail["shipping_method"]["price"]["amount"]) == (
        "shm_eu_standard",
        0,
    )
    assert detail["tax_lines"] == [
        {"rate": "19", "label": "VAT", "amount": {"amount": 798, "currency": "EUR"}}
    ]
    assert [(line["tax"]["amount"], line["tax_rate"]) for line in detail["lines"]] == [(798, "19")]
    assert detail["payment"] == {
        "status": "captured",
        "card_brand": "visa",
        "card_last4": "4242",
        "amount": {"amount": 5000, "currency": "EUR"},
        "captured": {"amount": 5000, "currency": "EUR"},
        "refunded": {"amount": 0, "currency": "EUR"},
        "refunded_tax": {"amount": 0, "currency": "EUR"},
        "refundable": {"amount": 5000, "currency": "EUR"},
    }
    assert detail["failure"] is None

    customer = {"x-mercato-customer-id": new_id("cus")}
    sku = detail["lines"][0]["sku"]
    await back_office.orders.post("/api/v1/cart/items", json={"sku": sku}, headers=customer)
    declined = await back_office.orders.post(
        "/api/v1/checkout",
        json={
            "shipping_address": detail["shipping_address"],
            "payment_method": card_token(sandbox=back_office.sandbox, number="4000000000000002"),
        },
        headers=customer | {"Idempotency-Key": "declined"},
    )
    assert declined.status_code == 402
    [failed] = (
        await back_office.orders.get("/admin/v1/orders", params={"state": "failed"}, headers=SUPPORT)
    ).json()["data"]
    failure = (await back_office.orders.get(f"/admin/v1/orders/{failed['id']}", headers=SUPPORT)).json()
    assert (failure["state"], failure["failure"]["status"]) == ("failed", 402)
    assert failure["history"][-1]["actor"] == "system"


async def test_orders_are_found_by_state_day_customer_and_number_newest_first(back_office):
    app = back_office.orders_app
    alice = new_id("cus")
    lines = [("prod_1", "Shirt", 1000, 1)]

    def at(day: int, hour: int = 12) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    a = await add_order(app, placed_at=at(1), state="placed", lines=lines, customer_id=alice)
    b = await add_order(app, placed_at=at(2, 23), state="shipped", lines=lines)
    c = await add_order(app, placed_at=at(3, 0), state="delivered", lines=lines, customer_id=alice)
    d = await add_order(app, placed_at=at(5), state="cancelled", lines=lines)

    async def ids(**params) -> list[str]:
        response = await back_office.orders.get("/admin/v1/orders", params=params, headers=SUPPORT)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["data"]]

    assert await ids() == [d, c, b, a]
    assert await ids(state=["shipped", "delivered"]) == [c, b]
    assert await ids(**{"from": "2026-03-02", "to": "2026-03-02"}) == [b]  # 23:00 UTC is still the 2nd
    assert await ids(**{"from": "2026-03-03"}) == [d, c]
    assert await ids(customer_id=alice) == [c, a]
    assert await ids(q=c) == [c]
    assert await ids(q=c[:-4].lower()) == [c]  # the start of an order id, in any case
    assert await ids(q=alice, state="placed") == [a]

    summary = (await back_office.orders.get("/admin/v1/orders", params={"q": a}, headers=SUPPORT)).json()[
        "data"
    ][0]
    assert summary | {"created_at": None} == {
        "id": a,
        "number": None,  # written straight into the database, not placed through checkout
        "customer_id": alice,
        "state": "placed",
        "total": {"amount": 1000, "currency": "EUR"},
        "refunded": {"amount": 0, "currency": "EUR"},
        "item_count": 1,
        "created_at": None,
        "placed_at": summary["placed_at"],
    }
    assert summary["placed_at"].startswith("2026-03-01T12:00:00")

    page = (await back_office.orders.get("/admin/v1/orders", params={"limit": 3}, headers=SUPPORT)).json()
    rest = await back_office.orders.get(
        "/admin/v1/orders", params={"limit": 3, "cursor": page["next_cursor"]}, headers=SUPPORT
    )
    assert [o["id"] for o in page["data"]] + [o["id"] for o in rest.json()["data"]] == [d, c, b, a]

    by_mail = await back_office.orders.get(
        "/admin/v1/orders", params={"q": "ada@example.com"}, headers=SUPPORT
    )
    assert by_mail.status_code == 422 and "customer_id" in by_mail.json()["detail"]
    bad_state = await back_office.orders.get("/admin/v1/orders", params={"state": "lost"}, headers=SUPPORT)
    assert bad_state.status_code == 422
    backwards = await back_office.orders.get(
        "/admin/v1/orders", params={"from": "2026-03-05", "to": "2026-03-01"}, headers=SUPPORT
    )
    assert backwards.status_code == 422


async def test_the_history_tells_a_shoppers_cancel_from_the_systems_refund_and_audits_neither(back_office):
    order = await _order(back_office)
    customer = {"x-mercato-customer-id": order["customer_id"]}
    cancelled = await back_office.orders.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer)
    assert cancelled.status_code == 200, cancelled.text

    detail = (await back_office.orders.get(f"/admin/v1/orders/{order['id']}", headers=SUPPORT)).json()
    assert [(e["state"], e["actor"], e["staff_id"]) for e in detail["history"]] == [
        ("pending_payment", "customer", None),
        ("placed", "customer", None),
        ("cancelled", "customer", None),
        ("refunded", "system", None),
    ]
    assert await outbox_events(back_office.orders_app, "StaffActionRecorded") == []
    assert await outbox_events(back_office.payments_app, "StaffActionRecorded") == []
    shopper_view = (await back_office.orders.get(f"/api/v1/orders/{order['id']}", headers=customer)).json()
    assert "staff_id" not in shopper_view["history"][-1] and "actor" not in shopper_view["history"][-1]
