"""Keyword-only factories for gateway tests: signing keys as a JWKS, and tokens of either realm."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from mercato.contracts.staff import STAFF_AUDIENCE
from mercato.platform.ids import new_id

ISSUER = "mercato-customers"
SHOP_AUDIENCE = "mercato-shop"


def jwks(*, key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """The JWKS customers publishes for `key` (EdDSA over Ed25519, like its TokenIssuer)."""
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "EdDSA"}]}


def signed_token(
    *,
    key: Ed25519PrivateKey,
    kid: str,
    subject: str,
    audience: str = SHOP_AUDIENCE,
    issuer: str = ISSUER,
    ttl_seconds: int = 300,
    **claims: Any,
) -> str:
    """A JWT as customers signs it; `claims` add to or override the registered ones (`exp=...`)."""
    now = int(time.time())
    payload = {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode({**payload, **claims}, key, algorithm="EdDSA", headers={"kid": kid})


def staff_token(
    *,
    key: Ed25519PrivateKey,
    kid: str,
    staff_id: str | None = None,
    roles: Sequence[str] = ("operations",),
    mfa: Any = True,
    audience: str = STAFF_AUDIENCE,
    **claims: Any,
) -> str:
    """A staff access token (see `mercato.contracts.staff`); `mfa=None` leaves the claim out."""
    extra: dict[str, Any] = {"roles": list(roles), "amr": ["pwd", "otp"] if mfa is True else ["pwd"]}
    if mfa is not None:
        extra["mfa"] = mfa
    return signed_token(
        key=key, kid=kid, subject=staff_id or new_id("stf"), audience=audience, **{**extra, **claims}
    )
