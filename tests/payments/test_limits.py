"""What the provider cannot charge is refused before it is asked (its minimum and maximum charge, the
order id's format), and what it refuses anyway settles the payment as failed — a 4xx, never a 500 or a
payment left pending for ever. Through the payments app and the real sandbox process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from mercato.platform.ids import new_id
from mercato.services.payments.models import Payment
from tests.payments.test_payments import SECRET, _kinds, _payment


async def _refused(payments, body: dict, field: str) -> dict:
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}
    return response.json()


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (0, "EUR", "must be at least 0.50 EUR, the payment provider's minimum charge"),
        (49, "EUR", "must be at least 0.50 EUR, the payment provider's minimum charge"),
        (29, "GBP", "must be at least 0.30 GBP, the payment provider's minimum charge"),
        (49, "JPY", "must be at least 50 JPY, the payment provider's minimum charge"),
        (0, "KRW", "must be at least 1 KRW, the payment provider's minimum charge"),
        (100_000_000, "EUR", "must be at most 999999.99 EUR, the payment provider's maximum charge"),
    ],
)
async def test_an_amount_the_provider_cannot_charge_is_refused_before_asking_it(
    payments, amount, currency, message
):
    body = _payment(payments.sandbox) | {"amount": {"amount": amount, "currency": currency}}
    refused = await _refused(payments, body, "amount.amount")
    assert refused["errors"]["amount.amount"] == message
    assert (await payments.get(f"/internal/payments/{body['order_id']}")).status_code == 404  # nothing kept
    found = stripe.StripeClient(SECRET["Authorization"].split()[1], base_addresses={"api": payments.sandbox})
    query = f"metadata['order_id']:'{body['order_id']}'"
    assert found.v1.payment_intents.search(params={"query": query}).data == []  # nor asked


@pytest.mark.parametrize(("amount", "currency"), [(50, "EUR"), (30, "GBP"), (50, "JPY"), (99_999_999, "EUR")])
async def test_the_minimum_and_maximum_charges_themselves_are_paid(payments, amount, currency):
    body = _payment(payments.sandbox) | {"amount": {"amount": amount, "currency": currency}}
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["captured"] == {"amount": amount, "currency": currency}


@pytest.mark.parametrize("order_id", ["ord_1", "ord_\x00", "ord_01JD\r\nX-Injected: 1", "order-42", ""])
async def test_an_order_id_that_is_not_one_is_refused_before_the_provider(payments, order_id):
    body = _payment(payments.sandbox) | {"order_id": order_id}
    await _refused(payments, body, "order_id")
    for path in ("", "/resolve", "/void"):
        method = payments.get if not path else payments.post
        assert (await method(f"/internal/payments/ord_%0A{path}")).status_code == 422


async def test_a_request_the_provider_refuses_settles_the_payment_as_failed(payments):
    """The sandbox, like Stripe, takes no North Korean won: an InvalidRequestError, not a decline."""
    body = _payment(payments.sandbox) | {"amount": {"amount": 5000, "currency": "KPW"}}
    first = await _refused(payments, body, "amount.currency")
    assert first["type"].endswith("/payment-refused") and first["decline_code"] == "invalid_currency"

    payment = (await payments.get(f"/internal/payments/{body['order_id']}")).json()
    assert payment["status"] == "failed" and _kinds(payment) == ["failed"]
    again = await payments.post("/internal/payments", json=body)
    assert (again.status_code, again.json()["errors"]) == (422, first["errors"])  # the same answer
    resolved = await payments.post(f"/internal/payments/{body['order_id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["status"] == "failed"
    voided = await payments.post(f"/internal/payments/{body['order_id']}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "failed"


async def test_a_payment_left_pending_with_an_amount_the_provider_refuses_is_resolved_as_failed(payments):
    """What the old code left behind: a zero amount claimed, the provider's refusal never recorded."""
    body = _payment(payments.sandbox)
    now = datetime.now(UTC)
    async with payments.app.state.db.unit_of_work() as session:
        session.add(
            Payment(
                id=new_id("pay"),
                order_id=body["order_id"],
                customer_id=body["customer_id"],
                amount=0,
                currency="EUR",
                payment_method=body["payment_method"],
                status="pending",
                captured_amount=0,
                refunded_amount=0,
                created_at=now,
                updated_at=now,
            )
        )

    resolved = await payments.post(f"/internal/payments/{body['order_id']}/resolve")
    assert resolved.status_code == 200, resolved.text
    assert (
        resolved.json()["status"] == "failed"
        and resolved.json()["decline_code"] == "parameter_invalid_integer"
    )
    trail = (await payments.get(f"/internal/payments/{body['order_id']}")).json()
    assert _kinds(trail) == ["failed"]


def test_the_sandbox_refuses_a_charge_below_the_minimum_as_stripe_does(sandbox):
    client = stripe.StripeClient(SECRET["Authorization"].split()[1], base_addresses={"api": sandbox})
    for amount, currency, message in [
        (49, "eur", "Amount must be at least 0.50 eur"),
        (49, "jpy", "Amount must be at least 50 jpy"),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.payment_intents.create(params={"amount": amount, "currency": currency})
        assert (refused.value.code, refused.value.param) == ("amount_too_small", "amount")
        assert refused.value.error.message == message
    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "eur"})
    assert too_large.value.code == "amount_too_large"
    assert client.v1.payment_intents.create(params={"amount": 50, "currency": "eur"}).amount == 50
