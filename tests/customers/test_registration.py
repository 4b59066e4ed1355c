"""Registration: what a new shopper, and an attacker, sees."""

from __future__ import annotations

from sqlalchemy import select

from mercato.services.customers.models import Customer
from tests.customers.factories import PASSWORD, register, sign_in


async def test_registering_creates_an_account_without_echoing_the_password(customers):
    response = await customers.post(
        "/api/v1/customers", json={"email": "Grace@Example.com", "password": PASSWORD, "name": "Grace Hopper"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("cus_")
    assert body["email"] == "grace@example.com"
    assert "password" not in response.text and PASSWORD not in response.text
    assert body["communication"] == {"email": True, "sms": False, "push": False}


async def test_passwords_are_stored_as_argon2id_hashes(customers):
    customer = await register(customers)
    async with customers.app.state.db.read() as session:
        stored = await session.scalar(select(Customer.password_hash).where(Customer.id == customer["id"]))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_an_email_can_register_only_once_whatever_its_case(customers):
    await register(customers, email="dup@example.com")
    again = await customers.post(
        "/api/v1/customers", json={"email": "DUP@example.com", "password": PASSWORD, "name": "Again"}
    )
    assert again.status_code == 409
    assert again.json()["errors"] == {"email": "is already registered"}


async def test_weak_passwords_are_refused_with_the_reason(customers):
    for password, reason in [
        ("short", "at least 10"),
        ("password123", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("longnamexyz-secret", "e-mail"),
    ]:
        response = await customers.post(
            "/api/v1/customers", json={"email": "longnamexyz@example.com", "password": password, "name": "W"}
        )
        assert response.status_code == 422, password
        assert reason in response.json()["errors"]["password"]


async def test_bad_input_is_a_clear_problem_never_a_500(customers):
    cases = [
        (b"{not json", 400),
        (b"[]", 422),
        (b'{"email": 5, "password": "x", "name": "n"}', 422),
        (b'{"email": "not-an-email", "password": "correct horse", "name": "n"}', 422),
        (b'{"email": "a@example.com", "password": "correct horse", "name": "n", "admin": true}', 422),
        (b'{"email": "a@example.com", "password": "correct horse", "name": ""}', 422),
        (
            b'{"email": "a@example.com", "password": "correct horse", "name": "' + b"n" * 2_000_000 + b'"}',
            413,
        ),
    ]
    for body, status in cases:
        response = await customers.post(
            "/api/v1/customers", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (body[:60], response.text[:200])
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["status"] == status and problem["title"] and problem["detail"]


async def test_a_retried_registration_with_the_same_idempotency_key_returns_the_first_answer(customers):
    body = {"email": "retry@example.com", "password": PASSWORD, "name": "Retry"}
    first = await customers.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-1"})
    replay = await customers.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"

    other = await customers.post(
        "/api/v1/customers", json=body | {"name": "Someone else"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409


async def test_an_address_signs_in_however_its_accents_and_case_are_encoded(customers):
    """A decomposed "é" (e + combining accent, as some keyboards send it) registers; the composed one,
    other cases and the domain's punycode sign in to the same account, and cannot register it again."""
    customer = await register(customers, email="Jose\u0301@Example.com")
    assert customer["email"] == "jos\u00e9@example.com"
    for typed in ("jose\u0301@example.com", "JOS\u00c9@EXAMPLE.COM", " jos\u00e9@example.com "):
        tokens = await sign_in(customers, email=typed)
        assert tokens["access_token"], typed
    again = await customers.post(
        "/api/v1/customers", json={"email": "jos\u00e9@example.com", "password": PASSWORD, "name": "Twin"}
    )
    assert again.status_code == 409

    await register(customers, email="ines@xn--bcher-kva.de")
    await sign_in(customers, email="INES@B\u00dcCHER.DE")


async def test_an_address_that_could_pass_for_another_is_refused(customers):
    await register(customers, email="paypal@example.com")
    for lookalike in ("p\u0430ypal@example.com", "\uff50aypal@example.com"):  # Cyrillic a, full-width p
        response = await customers.post(
            "/api/v1/customers", json={"email": lookalike, "password": PASSWORD, "name": "Mallory"}
        )
        assert response.status_code == 422, response.text
        assert "email" in response.json()["errors"]
