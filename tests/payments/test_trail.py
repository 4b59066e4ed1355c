"""The back office's payment trail (/admin/v1/payments) and refunds staff ask for: every record with who
asked, audited once, never a card number."""

from __future__ import annotations

from mercato.platform.ids import new_id
from tests.payments.factories import requested_by, staff_headers
from tests.payments.test_events import _events, _pay, _refund
from tests.payments.test_payments import _payment

SUPPORT = staff_headers(roles=("support",))


async def _trail(payments, order_id: str, headers: dict[str, str] = SUPPORT) -> dict:
    response = await payments.get("/admin/v1/payments", params={"order_id": order_id}, headers=headers)
    assert response.status_code == 200, response.text
    [payment] = response.json()["data"]
    return payment


async def test_the_trail_has_every_record_with_amounts_provider_ids_and_who_asked_for_a_refund(payments):
    body, paid = await _pay(payments, amount=3000)
    order = body["order_id"]
    asked = requested_by()
    partial = await _refund(
        payments, order, refund_key="r1", amount=1200, reason="damaged", requested_by=asked
    )
    assert partial.status_code == 200, partial.text
    assert (await _refund(payments, order, refund_key="r2", reason="order_cancelled")).status_code == 200

    response = await payments.get("/admin/v1/payments", params={"order_id": order}, headers=SUPPORT)
    trail = response.json()["data"][0]

    assert (trail["id"], trail["status"], trail["customer_id"]) == (
        paid["id"],
        "refunded",
        body["customer_id"],
    )
    assert (trail["captured"]["amount"], trail["refunded"]["amount"]) == (3000, 3000)
    assert trail["card"] == {"brand": "visa", "last4": "4242"}
    records = trail["records"]
    assert [(r["kind"], r["amount"]["amount"]) for r in records] == [
        ("intent_created", 3000),
        ("authorised", 3000),
        ("captured", 3000),
        ("refunded", 1200),
        ("refunded", 1800),
    ]
    assert [(r["reason"], r["staff_id"]) for r in records[3:]] == [
        ("damaged", asked["staff_id"]),
        ("order_cancelled", None),
    ]
    assert records[0]["provider_ref"] == paid["provider_intent_id"]
    assert records[2]["provider_ref"].startswith("ch_")
    assert all(r["provider_ref"].startswith("re_") for r in records[3:])
    assert {r["source"] for r in records} == {"mercato"}
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    # Never card data: not the number, and not even the payment method token.
    assert "4242424242424242" not in response.text
    assert body["payment_method"] not in response.text


async def test_a_staff_refund_is_audited_once_in_its_own_transaction_and_a_system_refund_not(payments):
    body, paid = await _pay(payments, amount=5000)
    order = body["order_id"]
    asked = requested_by()
    for _ in range(2):  # the caller retries: one refund, one audit entry
        refunded = await _refund(
            payments, order, refund_key="k", amount=700, reason="goodwill", requested_by=asked
        )
        assert refunded.json()["refunded"]["amount"] == 700
    await _refund(payments, order, refund_key="system", amount=300, reason="shipping_refund")

    [audit] = await _events(payments, "StaffActionRecorded")
    assert (audit["aggregate_type"], audit["aggregate_id"]) == ("staff", asked["staff_id"])
    payload = audit["payload"]
    assert (payload["action"], payload["service"], payload["target_type"], payload["target_id"]) == (
        "refund.create",
        "payments",
        "payment",
        paid["id"],
    )
    assert payload["source_ip"] == asked["source_ip"]
    assert payload["details"] | {"provider_refund_id": None} == {
        "order_id": order,
        "amount": 700,
        "currency": "EUR",
        "reason": "goodwill",
        "provider_refund_id": None,
        "total_refunded": 700,
    }
    assert [e["payload"]["amount"]["amount"] for e in await _events(payments, "PaymentRefunded")] == [
        700,
        300,
    ]


async def test_a_refund_key_used_again_for_another_refund_is_refused(payments):
    body, _ = await _pay(payments, amount=3000)
    order = body["order_id"]
    assert (await _refund(payments, order, refund_key="k", amount=1000, reason="a")).status_code == 200
    other_amount = await _refund(payments, order, refund_key="k", amount=999, reason="a")
    other_reason = await _refund(payments, order, refund_key="k", amount=1000, reason="b")
    assert (other_amount.status_code, other_reason.status_code) == (409, 409)
    assert other_amount.json()["errors"] == {"refund_key": "was used for another amount or reason"}
    assert (await _trail(payments, order))["refunded"]["amount"] == 1000


async def test_refunding_the_rest_when_nothing_is_left_is_a_conflict(payments):
    body, _ = await _pay(payments, amount=2000)
    order = body["order_id"]
    assert (await _refund(payments, order, refund_key="all")).json()["status"] == "refunded"
    again = await _refund(payments, order, refund_key="more")
    assert again.status_code == 409
    assert again.json()["type"].endswith("/nothing-to-refund")
    assert [r["kind"] for r in (await _trail(payments, order))["records"]].count("refunded") == 1


async def test_payments_are_listed_newest_first_by_customer_page_by_page(payments):
    first, _ = await _pay(payments, amount=1000)
    customer = first["customer_id"]
    for amount in (1001, 1002):  # the same customer pays twice more
        body = _payment(payments.sandbox, amount=amount) | {"customer_id": customer}
        assert (await payments.post("/internal/payments", json=body)).status_code == 201

    seen, cursor = [], None
    while True:
        params = {"customer_id": customer, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await payments.get("/admin/v1/payments", params=params, headers=SUPPORT)).json()
        seen += [p["amount"]["amount"] for p in page["data"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [1002, 1001, 1000]
    unknown = await payments.get("/admin/v1/payments", params={"order_id": new_id("ord")}, headers=SUPPORT)
    assert unknown.json() == {"data": [], "next_cursor": None}


async def test_only_operations_and_support_see_the_trail(payments):
    body, _ = await _pay(payments)
    url, params = "/admin/v1/payments", {"order_id": body["order_id"]}
    for roles, status in [
        (("support",), 200),
        (("operations",), 200),
        (("admin",), 200),
        (("merchandising",), 403),
        ((), 403),
    ]:
        response = await payments.get(url, params=params, headers=staff_headers(roles=roles))
        assert response.status_code == status, (roles, response.text)
    assert (await payments.get(url, params=params)).status_code == 401
    no_mfa = await payments.get(url, params=params, headers=staff_headers(roles=("support",), mfa=False))
    assert no_mfa.status_code == 401
    assert no_mfa.headers["content-type"] == "application/problem+json"
