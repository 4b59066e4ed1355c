"""What payments reads back from its database carries its UTC offset (date-time)."""

from __future__ import annotations

from tests.payments.factories import staff_headers
from tests.payments.test_payments import _payment
from tests.timestamps import assert_utc


async def test_a_payment_read_back_answers_utc_timestamps(payments):
    body = _payment(payments.sandbox)
    assert (await payments.post("/internal/payments", json=body)).status_code == 201

    assert_utc((await payments.get(f"/internal/payments/{body['order_id']}")).json(), "records.0.created_at")
    trail = await payments.get("/admin/v1/payments", headers=staff_headers())
    assert_utc(trail.json(), "data.0.created_at", "data.0.updated_at", "data.0.records.0.created_at")
