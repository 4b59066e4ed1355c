"""The staff realm's secrets: its token issuer (own key, audience `mercato-admin`), TOTP with replay
protection, recovery codes, challenges and temporary passwords."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno

from mercato.contracts.staff import ROLES, STAFF_AUDIENCE
from mercato.services.customers.credentials import Passwords, SigningKey
from mercato.services.customers.settings import CustomersSettings

TOTP_STEP_SECONDS = 30  # RFC 6238's default, and what every authenticator app assumes
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols (5 bits each), no l/1/o/0 to misread


class StaffTokenIssuer:
    """Access tokens of the staff realm: signed with the staff key (never the shoppers'), audience
    `mercato-admin`, with the claims of `mercato.contracts.staff`."""

    def __init__(self, settings: CustomersSettings) -> None:
        self.settings = settings
        self._key = SigningKey(
            settings.staff_signing_key_pem,
            settings.staff_signing_key_file,
            previous_public_keys_pem=settings.staff_previous_public_keys_pem,
            what="staff signing key",
        )

    @property
    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self._key.jwks

    @property
    def ttl_seconds(self) -> int:
        return self.settings.staff_access_token_ttl_seconds

    def access_token(self, staff_id: str, *, roles: list[str], amr: list[str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.settings.jwt_issuer,
            "aud": STAFF_AUDIENCE,
            "sub": staff_id,
            "roles": [role for role in ROLES if role in roles],
            "mfa": True,  # issued only once the second factor was verified
            "amr": amr,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": secrets.token_urlsafe(12),
        }
        return self._key.sign(claims)


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as a QR code, an SVG document (with its namespace, so it works inline in HTML
    and as an `<img>` data URI alike), made here rather than by a third party that would see the secret."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, scale=4, border=4)
    return buffer.getvalue().decode()


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time-step whose code `code` is, within one step either side of now (clock drift), or None."""
    totp = pyotp.TOTP(secret)
    now_step = int(time.time() if at is None else at) // TOTP_STEP_SECONDS
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 16 symbols (80 bits) each, grouped for reading: `abcd-efgh-jkmn-pqrs`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    """Hash of a code as typed: case, spaces and dashes don't matter. (80 random bits need no slow hash.)"""
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_challenge() -> tuple[str, str]:
    """(token for the client, hash to store)."""
    token = "stc_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def new_staff_refresh_token() -> tuple[str, str]:
    token = "srt_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def temporary_password() -> str:
    """20 characters from a 57-symbol alphabet (~116 bits), grouped to be read out and typed once."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


@dataclass(frozen=True)
class StaffRealm:
    """What the staff use cases need besides a session: built once per process (main.py, the CLI)."""

    settings: CustomersSettings
    passwords: Passwords  # the same argon2id hasher and rules as shoppers'
    issuer: StaffTokenIssuer

    @classmethod
    def from_settings(cls, settings: CustomersSettings, *, passwords: Passwords | None = None) -> StaffRealm:
        return cls(
            settings=settings,
            passwords=passwords or Passwords(settings),
            issuer=StaffTokenIssuer(settings),
        )
