"""Sign-in, short-lived access tokens, rotating refresh tokens and the JWKS that verifies them."""

from __future__ import annotations

import asyncio

import jwt

from tests.customers.factories import register, sign_in


async def _verify(customers, token: str) -> dict:
    jwks = (await customers.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return jwt.decode(
        token, jwt.PyJWK(key), algorithms=["EdDSA"], audience="mercato-shop", issuer="mercato-customers"
    )


async def test_sign_in_issues_a_short_lived_eddsa_token_verifiable_with_the_jwks(customers):
    customer = await register(customers)
    tokens = await sign_in(customers, email=customer["email"])
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    claims = await _verify(customers, tokens["access_token"])
    assert claims["sub"] == customer["id"]
    assert claims["exp"] - claims["iat"] == 900
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "EdDSA"
    assert (await customers.get("/api/v1/.well-known/jwks.json")).json() == (
        await customers.get("/.well-known/jwks.json")
    ).json()


async def test_wrong_password_and_unknown_email_look_the_same(customers):
    customer = await register(customers)
    wrong = await customers.post(
        "/api/v1/auth/token", json={"email": customer["email"], "password": "nope nope nope"}
    )
    unknown = await customers.post(
        "/api/v1/auth/token", json={"email": "ghost@example.com", "password": "nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_refreshing_rotates_the_refresh_token(customers):
    customer = await register(customers)
    first = await sign_in(customers, email=customer["email"])
    second = (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await _verify(customers, second["access_token"]))["sub"] == customer["id"]
    third = await customers.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(start_customers):
    customers = await start_customers(refresh_reuse_leeway_seconds=0)  # the replay comes "later"
    customer = await register(customers)
    stolen = await sign_in(customers, email=customer["email"])
    rotated = (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    ).json()
    other_device = await sign_in(customers, email=customer["email"])  # a separate sign-in: another family

    reuse = await customers.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert reuse.status_code == 401
    assert "revoked" in reuse.json()["detail"]
    # The legitimate holder's newer token is revoked too: the family is compromised.
    assert (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    ).status_code == 401
    # Other sign-ins are untouched.
    assert (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]})
    ).status_code == 200


async def test_two_tabs_refreshing_at_once_both_stay_signed_in(customers):
    """The same refresh token twice within the reuse leeway (10 s by default) is one client racing
    itself: each gets its own working pair, and nothing is revoked."""
    customer = await register(customers)
    tokens = await sign_in(customers, email=customer["email"])
    first, second = await asyncio.gather(
        *(
            customers.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            for _ in "ab"
        )
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["refresh_token"] != second.json()["refresh_token"]
    for pair in (first.json(), second.json()):
        again = await customers.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert again.status_code == 200
        assert (await _verify(customers, again.json()["access_token"]))["sub"] == customer["id"]


async def test_garbage_refresh_tokens_are_401_not_500(customers):
    for token in ["rt_nope", "x" * 200, "' OR 1=1 --"]:
        response = await customers.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401
    assert (
        await customers.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 201})
    ).status_code == 422
