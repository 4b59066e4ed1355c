"""Strict input at payments' private API: amounts are JSON integers in an active ISO 4217 currency."""

from __future__ import annotations

import pytest

from tests.payments.test_payments import _payment


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ({"amount": "2500", "currency": "EUR"}, "amount.amount"),
        ({"amount": True, "currency": "EUR"}, "amount.amount"),
        ({"amount": 2500, "currency": "XXX"}, "amount.currency"),
        ({"amount": 2500, "currency": "XTS"}, "amount.currency"),
        ({"amount": 2500, "currency": "eur"}, "amount.currency"),
    ],
)
async def test_an_amount_of_the_wrong_type_or_currency_is_refused_before_the_provider(
    payments, amount, field
):
    body = _payment(payments.sandbox) | {"amount": amount}
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}
    assert (await payments.get(f"/internal/payments/{body['order_id']}")).status_code == 404
