"""What the customers service reads back from its database carries its UTC offset (date-time)."""

from __future__ import annotations

from tests.customers.factories import ADDRESS, as_customer, register, sign_in
from tests.timestamps import assert_utc


async def test_profile_addresses_and_export_answer_utc_timestamps(customers):
    customer = await register(customers)
    await sign_in(customers, email=customer["email"])
    me = as_customer(customer["id"])
    added = await customers.post("/api/v1/me/addresses", headers=me, json=ADDRESS)
    assert added.status_code == 201, added.text

    assert_utc((await customers.get("/api/v1/me", headers=me)).json(), "created_at")
    assert_utc((await customers.get("/api/v1/me/addresses", headers=me)).json(), "data.0.created_at")
    assert_utc(
        (await customers.get("/api/v1/me/export", headers=me)).json(),
        "exported_at",
        "customer.created_at",
        "addresses.0.created_at",
        "sessions.0.issued_at",
        "sessions.0.expires_at",
    )
