"""Passwords (argon2id) and access tokens (EdDSA JWTs) with the JWKS that verifies them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path

import anyio
import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import SecretStr

from mercato.platform.errors import Problem
from mercato.services.customers.settings import CustomersSettings

COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "123456789",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "qwerty123",
        "iloveyou1",
        "1q2w3e4r5t",
        "letmein123",
        "welcome123",
        "sunshine1",
        "football1",
        "baseball1",
        "starwars1",
        "trustno1",
        "princess1",
        "dragon123",
        "monkey1234",
        "abc1234567",
        "changeme123",
        "administrator",
        "0987654321",
        "1111111111",
        "aaaaaaaaaa",
        "qwertyuiop123",
        "mercato123",
        "password12",
        "zaq12wsxcde",
    }
)


def password_problems(password: str, *, email: str) -> str | None:
    """Why a password is too weak, or None. NIST 800-63B: length and a deny-list, no composition rules."""
    if len(password) < 10:
        return "must be at least 10 characters"
    if len(password) > 128:
        return "must be at most 128 characters"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        return "is too common or too simple"
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "must not contain your e-mail address"
    return None


class HashesBusy(Problem):
    """Every argon2 slot of this process is taken: answered at once, never queued behind a flood."""

    status, slug, title = 503, "sign-in-busy", "Sign-in is busy"

    def __init__(self) -> None:
        super().__init__(
            "Too many sign-ins are being checked right now; try again in a moment.",
            headers={"Retry-After": "1"},
        )


class Passwords:
    """argon2id hashing and verification, at most `max_concurrent_hashes` at a time per process.

    argon2 runs in a worker thread and costs ~64 MiB and tens of milliseconds of a core; a flood of
    sign-ins queued behind each other made every sign-in wait (Envoy gave up at 15 s). A request that
    finds every slot taken gets a fast 503 with Retry-After instead (`HashesBusy`): the wait is the
    client's, not a queue's."""

    def __init__(self, settings: CustomersSettings) -> None:
        self._slots = asyncio.Semaphore(settings.max_concurrent_hashes)
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        # Verifying against this when the e-mail is unknown keeps login time the same either way.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._slots.locked():  # no free slot: refuse now rather than wait
            raise HashesBusy()
        async with self._slots:
            yield

    async def hash(self, password: str) -> str:
        async with self._slot():
            return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def _verify() -> bool:
            try:
                return (
                    self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
                )
            except (VerificationError, InvalidHashError):
                return False

        async with self._slot():
            return await anyio.to_thread.run_sync(_verify)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    # RFC 7638 thumbprint: a stable key id derived from the key itself.
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**jwk, "kid": _b64url(thumbprint), "alg": "EdDSA", "use": "sig"}


def _load_or_create_key(pem_setting: SecretStr | None, path: Path | None, *, what: str) -> Ed25519PrivateKey:
    if pem_setting is not None:
        pem = pem_setting.get_secret_value().encode()
    else:
        assert path is not None  # the settings chose a file when no PEM was given
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            new_key = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            # Written aside, then linked into place: of several replicas starting at once, one key wins
            # whole, and no replica ever reads a half-written file.
            draft = path.with_name(f".{path.name}.{os.getpid()}")
            draft.touch(mode=0o600)
            draft.write_bytes(new_key)
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
            draft.unlink()
        pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the {what} must be an Ed25519 private key")
    return key


class SigningKey:
    """An Ed25519 key that signs one realm's tokens, and the JWKS that publishes its public half (plus
    the previous keys still trusted during a rotation). Shoppers and staff each have their own."""

    def __init__(
        self, pem: SecretStr | None, path: Path | None, *, previous_public_keys_pem: list[str], what: str
    ) -> None:
        self._key = _load_or_create_key(pem, path, what=what)
        self._jwk = _public_jwk(self._key.public_key())
        self._previous = previous_public_keys_pem

    @cached_property
    def jwks(self) -> dict[str, list[dict[str, str]]]:
        keys = [self._jwk]
        for pem in self._previous:
            public = serialization.load_pem_public_key(pem.encode())
            if isinstance(public, Ed25519PublicKey):
                keys.append(_public_jwk(public))
        return {"keys": keys}

    def sign(self, claims: dict[str, object]) -> str:
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self._jwk["kid"]})


class TokenIssuer:
    def __init__(self, settings: CustomersSettings) -> None:
        self.settings = settings
        self._key = SigningKey(
            settings.signing_key_pem,
            settings.signing_key_file,
            previous_public_keys_pem=settings.previous_public_keys_pem,
            what="customers signing key",
        )

    @property
    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self._key.jwks

    def access_token(self, customer_id: str, *, sessions_valid_after: int | None = None) -> str:
        """A token issued now; its `iat` is never before the customer's "sessions valid after" second
        (`mercato.platform.sessions`), so a token issued in the very second of a revocation, just after
        it, is not refused by it."""
        now = int(time.time())
        claims = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": customer_id,
            "iat": max(now, sessions_valid_after or 0),
            "nbf": now,
            "exp": now + self.settings.access_token_ttl_seconds,
            "jti": secrets.token_urlsafe(12),
        }
        return self._key.sign(claims)


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, hash to store)."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
