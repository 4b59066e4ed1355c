"""Password reset by e-mail: 202 whatever the address, a single-use short-lived token stored only as a
hash, and every session of the account ends when it is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select, update

from mercato.platform.tables import outbox
from mercato.services.customers.models import PasswordReset
from mercato.services.customers.password_reset import reset_token_hash
from tests.customers.factories import PASSWORD, as_customer, register, sign_in

NEW_PASSWORD = "a brand new passphrase"


async def _reset_events(client) -> list[dict]:
    async with client.app.state.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [r["envelope"]["payload"] for r in rows if r["event_type"] == "PasswordResetRequested"]


async def _resets(client) -> list[PasswordReset]:
    async with client.app.state.db.read() as session:
        return list(await session.scalars(select(PasswordReset)))


async def _ask(client, email: str):
    return await client.post("/api/v1/auth/password-reset", json={"email": email})


async def _confirm(client, token: str, password: str = NEW_PASSWORD):
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


async def test_any_address_gets_the_same_202_and_only_an_account_gets_a_link(customers):
    customer = await register(customers)

    known = await _ask(customers, customer["email"].upper())  # the address as typed, normalised
    unknown = await _ask(customers, "nobody-here@example.com")
    malformed = await _ask(customers, "not an address")

    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.content == unknown.content == malformed.content == b""
    [event] = await _reset_events(customers)
    assert (event["customer_id"], event["email"]) == (customer["id"], customer["email"])
    assert event["token"].startswith("prt_") and len(event["token"]) > 40


async def test_the_token_is_stored_only_as_its_hash(customers):
    customer = await register(customers)
    await _ask(customers, customer["email"])
    [event], [stored] = await _reset_events(customers), await _resets(customers)

    assert stored.token_hash == reset_token_hash(event["token"]) != event["token"]
    assert event["token"] not in str(vars(stored))
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)


async def test_a_token_resets_once_and_every_session_ends(customers):
    customer = await register(customers)
    tokens = await sign_in(customers, email=customer["email"])
    issued_at = jwt.decode(tokens["access_token"], options={"verify_signature": False})["iat"]
    old_session = as_customer(customer["id"]) | {"x-mercato-token-issued-at": str(issued_at)}
    assert (await customers.get("/api/v1/me", headers=old_session)).status_code == 200
    await _ask(customers, customer["email"])
    await _ask(customers, customer["email"])  # two links: using one kills the other
    first, second = (e["token"] for e in await _reset_events(customers))

    weak = await _confirm(customers, first, "short")
    assert weak.status_code == 422 and "new_password" in weak.json()["errors"]
    assert (await _confirm(customers, first)).status_code == 204

    again = await _confirm(customers, first, "yet another passphrase")
    assert again.status_code == 400 and again.json()["errors"] == {"token": "is not valid any more"}
    assert (await _confirm(customers, second, "yet another passphrase")).status_code == 400
    assert (await customers.get("/api/v1/me", headers=old_session)).status_code == 401
    refreshed = await customers.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    old = await customers.post("/api/v1/auth/token", json={"email": customer["email"], "password": PASSWORD})
    assert old.status_code == 401
    await sign_in(customers, email=customer["email"], password=NEW_PASSWORD)


async def test_an_expired_or_unknown_token_is_refused(customers):
    customer = await register(customers)
    await _ask(customers, customer["email"])
    [event] = await _reset_events(customers)
    async with customers.app.state.db.unit_of_work() as session:
        await session.execute(
            update(PasswordReset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    assert (await _confirm(customers, event["token"])).status_code == 400
    assert (await _confirm(customers, "prt_made-up")).status_code == 400
    await sign_in(customers, email=customer["email"])  # the password did not change


async def test_an_erased_account_gets_no_link(customers):
    customer = await register(customers)
    await _ask(customers, customer["email"])
    [event] = await _reset_events(customers)
    assert (await customers.delete("/api/v1/me", headers=as_customer(customer["id"]))).status_code == 204

    await _ask(customers, customer["email"])
    assert len(await _reset_events(customers)) == 1
    assert (await _confirm(customers, event["token"])).status_code == 400
