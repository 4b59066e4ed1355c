"""Staff sign-in: password, then TOTP (enrolled at the first sign-in) or a recovery code, then tokens
of the staff realm; lockout after repeated failures; nothing that tells which e-mails are staff."""

from __future__ import annotations

import asyncio
import statistics
import time

import jwt
import pyotp
import pytest
from pydantic import ValidationError

from mercato.services.customers.settings import CustomersSettings
from tests.customers.factories import (
    ADMIN,
    STAFF_PASSWORD,
    Authenticator,
    challenge,
    create_staff,
    enrolled_staff,
    login,
    staff_sign_in,
    verify,
    wait_for_a_fresh_totp_step,
)


async def _decode(client, token: str, *, jwks_path: str, audience: str) -> dict:
    jwks = (await client.get(jwks_path)).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next((k for k in jwks["keys"] if k["kid"] == kid), None)
    if key is None:
        raise jwt.InvalidKeyError(f"no key {kid} in {jwks_path}")
    return jwt.decode(
        token, jwt.PyJWK(key), algorithms=["EdDSA"], audience=audience, issuer="mercato-customers"
    )


async def staff_claims(client, token: str) -> dict:
    return await _decode(client, token, jwks_path="/internal/staff/jwks.json", audience="mercato-admin")


async def test_the_first_sign_in_sets_a_password_and_enrols_an_authenticator_from_a_qr_code(customers):
    await wait_for_a_fresh_totp_step()
    member = await create_staff(customers, roles=("support",), email="Grace@Example.com")
    assert member["temporary_password"] and member["mfa_enrolled"] is False

    started = await challenge(customers, email="grace@example.com", password=member["temporary_password"])
    assert started["status"] == "enrolment_required"
    assert started["password_change_required"] is True and started["expires_in"] == 300
    secret = started["secret"]
    assert started["otpauth_uri"] == pyotp.TOTP(secret).provisioning_uri(
        name="grace@example.com", issuer_name="Mercato"
    )
    assert started["qr_svg"].startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in started["qr_svg"]
    phone = Authenticator(secret)

    # The temporary password must be replaced in this sign-in, with one that meets the password rules.
    for new_password, problem in [(None, "is required"), ("password123", "too common")]:
        body = {"challenge": started["challenge"], "code": phone.totp.now()}
        if new_password:
            body["new_password"] = new_password
        refused = await customers.post("/admin/v1/auth/enrol", json=body)
        assert refused.status_code == 422, refused.text
        assert problem in refused.json()["errors"]["new_password"]

    enrolled = await customers.post(
        "/admin/v1/auth/enrol",
        json={"challenge": started["challenge"], "code": phone.next_code(), "new_password": STAFF_PASSWORD},
    )
    assert enrolled.status_code == 200, enrolled.text
    body = enrolled.json()
    assert len(body["recovery_codes"]) == 10 and len(set(body["recovery_codes"])) == 10
    assert body["recovery_codes_remaining"] == 10
    assert (await staff_claims(customers, body["access_token"]))["sub"] == member["id"]

    # From now on: the own password, and no secret is ever handed out again.
    assert (
        await login(customers, email="grace@example.com", password=member["temporary_password"])
    ).status_code == 401
    again = await challenge(customers, email="grace@example.com")
    assert again == {
        "status": "mfa_required",
        "challenge": again["challenge"],
        "expires_in": 300,
        "password_change_required": False,
    }
    shown = (await customers.get(f"/admin/v1/staff/{member['id']}", headers=ADMIN)).json()
    assert shown["mfa_enrolled"] is True and "secret" not in str(shown).lower()


async def test_staff_tokens_carry_roles_and_mfa_and_only_the_staff_jwks_verifies_them(customers):
    member = await enrolled_staff(customers, roles=("support", "operations"))
    tokens = await staff_sign_in(customers, member)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 600

    claims = await staff_claims(customers, tokens["access_token"])
    assert claims["aud"] == "mercato-admin" and claims["iss"] == "mercato-customers"
    assert claims["sub"] == member["id"]
    assert claims["roles"] == ["operations", "support"]
    assert claims["mfa"] is True and claims["amr"] == ["pwd", "otp"]
    assert claims["exp"] - claims["iat"] == 600

    # The shoppers' JWKS does not verify it: another key altogether.
    shopper_jwks = (await customers.get("/.well-known/jwks.json")).json()
    staff_jwks = (await customers.get("/internal/staff/jwks.json")).json()
    assert {k["kid"] for k in shopper_jwks["keys"]}.isdisjoint({k["kid"] for k in staff_jwks["keys"]})
    for key in shopper_jwks["keys"]:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(tokens["access_token"], jwt.PyJWK(key), algorithms=["EdDSA"], audience="mercato-admin")
    # Nor is it a shopper token by its audience, even with the right key.
    with pytest.raises(jwt.InvalidAudienceError):
        await _decode(
            customers, tokens["access_token"], jwks_path="/internal/staff/jwks.json", audience="mercato-shop"
        )
    # The staff JWKS is for the gateway only: not under a public path.
    assert (await customers.get("/admin/v1/auth/jwks.json")).status_code in (404, 405)


async def test_a_totp_code_works_once(customers):
    member = await enrolled_staff(customers)
    phone = member["phone"]
    enrolment_code = phone.last_code

    started = await challenge(customers, email=member["email"])
    replayed = await verify(customers, challenge_token=started["challenge"], code=enrolment_code)
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["detail"]

    code = phone.next_code()
    assert (await verify(customers, challenge_token=started["challenge"], code=code)).status_code == 200
    second = await challenge(customers, email=member["email"])
    assert (await verify(customers, challenge_token=second["challenge"], code=code)).status_code == 401
    # ...and a code of an earlier step than the last one used is no better.
    earlier = phone.totp.at(phone.first_step * 30)
    assert (await verify(customers, challenge_token=second["challenge"], code=earlier)).status_code == 401


async def test_a_recovery_code_signs_in_once(customers):
    member = await enrolled_staff(customers)
    first, second = member["recovery_codes"][:2]

    started = await challenge(customers, email=member["email"])
    used = await verify(customers, challenge_token=started["challenge"], recovery_code=first)
    assert used.status_code == 200, used.text
    assert used.json()["recovery_codes_remaining"] == 9
    assert (await staff_claims(customers, used.json()["access_token"]))["amr"] == [
        "pwd",
        "otp",
        "recovery_code",
    ]

    again = await challenge(customers, email=member["email"])
    refused = await verify(customers, challenge_token=again["challenge"], recovery_code=first)
    assert refused.status_code == 401
    # Typed as a person would: capitals, no dashes, spaces around.
    typed = f"  {second.replace('-', '').upper()} "
    assert (
        await verify(customers, challenge_token=again["challenge"], recovery_code=typed)
    ).status_code == 200

    both = await verify(customers, challenge_token=again["challenge"], code="123456", recovery_code=second)
    assert both.status_code == 422


async def test_five_wrong_codes_lock_the_account_and_then_even_the_right_code_is_refused(customers):
    member = await enrolled_staff(customers)
    phone = member["phone"]
    started = await challenge(customers, email=member["email"])

    for _ in range(4):
        wrong = await verify(customers, challenge_token=started["challenge"], code=phone.wrong_code())
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == "The code is not correct."
    locked = await verify(customers, challenge_token=started["challenge"], code=phone.wrong_code())
    assert locked.status_code == 423
    assert locked.headers["content-type"] == "application/problem+json"
    assert "locked" in locked.json()["detail"] and 0 < int(locked.headers["Retry-After"]) <= 900

    right_code = await verify(customers, challenge_token=started["challenge"], code=phone.next_code())
    assert right_code.status_code == 423
    right_password = await login(customers, email=member["email"])
    assert right_password.status_code == 423

    unlocked = await customers.post(f"/admin/v1/staff/{member['id']}/unlock", headers=ADMIN)
    assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None
    await staff_sign_in(customers, member)


async def test_five_wrong_passwords_lock_the_account_until_the_lockout_lapses(start_customers):
    customers = await start_customers(staff_lockout_seconds=2)
    member = await enrolled_staff(customers)

    answers = [(await login(customers, email=member["email"], password="not my password")) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
    assert (await login(customers, email=member["email"])).status_code == 423
    await asyncio.sleep(2.2)
    await staff_sign_in(customers, member)  # lapsed, and the count starts afresh


async def test_only_a_whole_sign_in_resets_the_failure_count(customers):
    member = await enrolled_staff(customers)
    phone = member["phone"]

    # Four wrong codes; the right password again does not wipe them out: one more wrong code locks.
    started = await challenge(customers, email=member["email"])
    for _ in range(4):
        await verify(customers, challenge_token=started["challenge"], code=phone.wrong_code())
    started = await challenge(customers, email=member["email"])
    locked = await verify(customers, challenge_token=started["challenge"], code=phone.wrong_code())
    assert locked.status_code == 423

    await customers.post(f"/admin/v1/staff/{member['id']}/unlock", headers=ADMIN)
    # Four failures, then a complete sign-in: the count is back to zero.
    for _ in range(4):
        assert (await login(customers, email=member["email"], password="wrong password")).status_code == 401
    await staff_sign_in(customers, member)
    for _ in range(4):
        assert (await login(customers, email=member["email"], password="wrong password")).status_code == 401


async def test_an_unknown_email_and_a_wrong_password_are_indistinguishable(start_customers):
    customers = await start_customers(staff_lockout_threshold=1000)
    member = await enrolled_staff(customers)

    async def attempt(email: str) -> tuple[float, int, dict]:
        started = time.perf_counter()
        response = await login(customers, email=email, password="not the password")
        return time.perf_counter() - started, response.status_code, response.json()

    wrong = [await attempt(member["email"]) for _ in range(7)]
    unknown = [await attempt("nobody@example.com") for _ in range(7)]
    assert {(status, body["detail"], body["title"]) for _, status, body in wrong + unknown} == {
        (401, "The e-mail address or password is not correct.", "Authentication required")
    }
    # Both verify an argon2 hash (a dummy one for the unknown e-mail), so they take about as long.
    wrong_time = statistics.median(t for t, _, _ in wrong)
    unknown_time = statistics.median(t for t, _, _ in unknown)
    assert 0.5 < unknown_time / wrong_time < 2, (unknown_time, wrong_time)


async def test_a_disabled_account_cannot_sign_in(customers):
    member = await enrolled_staff(customers)
    await customers.patch(f"/admin/v1/staff/{member['id']}", json={"active": False}, headers=ADMIN)

    right = await login(customers, email=member["email"])
    assert right.status_code == 403 and "disabled" in right.json()["detail"]
    wrong = await login(customers, email=member["email"], password="not the password")
    assert wrong.status_code == 401  # without the password, nothing about the account is told


async def test_refresh_rotates_reflects_role_changes_and_logout_ends_the_session(customers):
    member = await enrolled_staff(customers, roles=("support",))
    tokens = member["tokens"]
    await customers.patch(
        f"/admin/v1/staff/{member['id']}", json={"roles": ["support", "merchandising"]}, headers=ADMIN
    )

    refreshed = await customers.post(
        "/admin/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    claims = await staff_claims(customers, new["access_token"])
    assert claims["roles"] == ["merchandising", "support"] and claims["mfa"] is True

    reused = await customers.post("/admin/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401  # a spent token: the whole sign-in's family is revoked
    assert (
        await customers.post("/admin/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    ).status_code == 401

    other = await staff_sign_in(customers, member)
    assert (
        await customers.post("/admin/v1/auth/logout", json={"refresh_token": other["refresh_token"]})
    ).status_code == 204
    assert (
        await customers.post("/admin/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 401
    # Logging out twice, or with nonsense, is fine and tells nothing.
    for token in (other["refresh_token"], "srt_nonsense"):
        assert (
            await customers.post("/admin/v1/auth/logout", json={"refresh_token": token})
        ).status_code == 204


async def test_a_challenge_is_single_use_and_short_lived(start_customers):
    customers = await start_customers(staff_challenge_ttl_seconds=2)
    member = await enrolled_staff(customers)
    phone = member["phone"]

    started = await challenge(customers, email=member["email"])
    assert (
        await verify(customers, challenge_token=started["challenge"], code=phone.next_code())
    ).status_code == 200
    spent = await verify(customers, challenge_token=started["challenge"], code=phone.next_code())
    assert spent.status_code == 401 and "sign in again" in spent.json()["detail"]

    for nonsense in ("stc_nonsense", "x" * 200):
        assert (await verify(customers, challenge_token=nonsense, code="123456")).status_code == 401
    expired = await challenge(customers, email=member["email"])
    await asyncio.sleep(2.2)
    assert (
        await verify(customers, challenge_token=expired["challenge"], code=phone.last_code)
    ).status_code == 401


async def test_the_wrong_step_for_a_challenge_is_a_conflict(customers):
    member = await enrolled_staff(customers)
    started = await challenge(customers, email=member["email"])
    wrong_step = await customers.post(
        "/admin/v1/auth/enrol", json={"challenge": started["challenge"], "code": "123456"}
    )
    assert wrong_step.status_code == 409 and "/admin/v1/auth/verify" in wrong_step.json()["detail"]


async def test_a_temporary_password_expires(start_customers):
    customers = await start_customers(staff_temporary_password_hours=0)
    member = await create_staff(customers)
    expired = await login(customers, email=member["email"], password=member["temporary_password"])
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


async def test_malformed_sign_in_requests_are_4xx_not_500(customers):
    for path, body in [
        ("/admin/v1/auth/login", {"email": "a@example.com"}),
        ("/admin/v1/auth/verify", {"challenge": "stc_x", "code": "12345"}),
        ("/admin/v1/auth/verify", {"challenge": "stc_x"}),
        ("/admin/v1/auth/enrol", {"challenge": "stc_x", "code": "abcdef"}),
        ("/admin/v1/auth/refresh", {"refresh_token": ""}),
    ]:
        response = await customers.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)


def test_outside_development_the_staff_keys_must_be_given(monkeypatch, tmp_path):
    monkeypatch.setenv("MERCATO_CUSTOMERS_ENVIRONMENT", "production")
    monkeypatch.setenv("MERCATO_CUSTOMERS_CURSOR_SECRET", "a-real-secret")
    monkeypatch.setenv("MERCATO_CUSTOMERS_SIGNING_KEY_FILE", str(tmp_path / "shoppers.pem"))
    monkeypatch.setenv("MERCATO_CUSTOMERS_DATA_KEY_FILE", str(tmp_path / "data.keys"))
    monkeypatch.setenv("MERCATO_CUSTOMERS_BLIND_INDEX_KEY_FILE", str(tmp_path / "blind.key"))
    with pytest.raises(ValidationError, match="STAFF_SIGNING_KEY"):
        CustomersSettings()
    monkeypatch.setenv("MERCATO_CUSTOMERS_STAFF_SIGNING_KEY_FILE", str(tmp_path / "staff.pem"))
    assert CustomersSettings().staff_signing_key_file == tmp_path / "staff.pem"
    # The shoppers' key can never double as the staff key.
    monkeypatch.setenv("MERCATO_CUSTOMERS_STAFF_SIGNING_KEY_FILE", str(tmp_path / "shoppers.pem"))
    with pytest.raises(ValidationError, match="must not be the shoppers'"):
        CustomersSettings()


async def test_staff_sign_in_with_the_address_spelt_another_way(customers):
    member = await create_staff(customers, email="Zo\u00eb@Example.com", password=STAFF_PASSWORD)
    assert member["email"] == "zo\u00eb@example.com"
    started = await challenge(customers, email="ZOE\u0308@example.COM", password=STAFF_PASSWORD)
    assert started["status"] == "enrolment_required"
