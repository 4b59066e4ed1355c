"""Sign-in under a flood: a few wrong passwords per account, then 429; and a bounded number of argon2
hashes per process, beyond which a sign-in gets a fast 503 instead of waiting in a queue."""

from __future__ import annotations

import asyncio

from tests.customers.factories import PASSWORD, register, sign_in


async def _attempt(client, email: str, password: str):
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


async def test_wrong_passwords_lock_only_that_account_for_the_window(start_customers):
    customers = await start_customers(sign_in_failures_per_account=3, sign_in_failure_window_seconds=2)
    victim, bystander = await register(customers), await register(customers)

    wrong = [await _attempt(customers, victim["email"], "not the password") for _ in range(3)]
    assert [r.status_code for r in wrong] == [401, 401, 401]
    refused = await _attempt(customers, victim["email"], PASSWORD)  # even the right password, for now
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    # Another spelling of the same address is the same account.
    assert (await _attempt(customers, victim["email"].upper(), PASSWORD)).status_code == 429
    # An unknown address is limited the same way (the answer must not tell which addresses exist).
    ghost = [await _attempt(customers, "ghost@example.com", "guess guess") for _ in range(4)]
    assert [r.status_code for r in ghost] == [401, 401, 401, 429]

    await sign_in(customers, email=bystander["email"])  # someone else's account is not affected
    await asyncio.sleep(2.1)
    await sign_in(customers, email=victim["email"])  # the window has passed

    # A success wipes the count: three more wrong passwords are needed to lock it again.
    for _ in range(2):
        assert (await _attempt(customers, victim["email"], "wrong again")).status_code == 401
    await sign_in(customers, email=victim["email"])


async def test_with_every_hash_slot_taken_a_sign_in_gets_a_fast_503_not_a_queue(start_customers):
    # One slot, and a realistic argon2 cost, so that the first check still runs when the others arrive.
    customers = await start_customers(max_concurrent_hashes=1, argon2_time_cost=3, argon2_memory_kib=65536)
    customer = await register(customers)

    answers = await asyncio.gather(*(_attempt(customers, customer["email"], PASSWORD) for _ in range(3)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["status"] == 503
    # The refusal was not counted as a wrong password, and the slot is free again afterwards.
    await sign_in(customers, email=customer["email"])


async def test_registration_and_staff_sign_in_share_the_hash_bound(start_customers):
    customers = await start_customers(max_concurrent_hashes=1, argon2_time_cost=3, argon2_memory_kib=65536)
    bodies = [{"email": f"new-{i}@example.com", "password": PASSWORD, "name": "New"} for i in range(3)]
    answers = await asyncio.gather(
        *(customers.post("/api/v1/customers", json=body) for body in bodies),
        customers.post("/admin/v1/auth/login", json={"email": "x@example.com", "password": "whatever x"}),
    )
    statuses = [r.status_code for r in answers]
    assert 503 in statuses and statuses.count(201) >= 1, statuses
