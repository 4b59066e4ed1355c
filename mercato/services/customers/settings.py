from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import Topology, var_dir


class CustomersSettings(ServiceSettings):
    model_config = service_config("customers")

    service_name: str = "customers"
    personal_data: ClassVar[bool] = True  # names, e-mail, phones, addresses: encrypted (docs/security.md)
    blind_index: ClassVar[bool] = True  # e-mail (sign-in, uniqueness) and name (support search)
    jwt_issuer: str = "mercato-customers"
    jwt_audience: str = "mercato-shop"
    access_token_ttl_seconds: int = 900  # short-lived: the refresh token carries the session
    refresh_token_ttl_days: int = 30
    password_reset_ttl_minutes: int = Field(default=30, ge=5, le=24 * 60)  # a reset link's lifetime
    # A refresh token presented again this soon after its rotation is a client racing itself (two tabs
    # refreshing at once), not a thief: it gets a pair of its own instead of revoking the sign-in.
    refresh_reuse_leeway_seconds: float = Field(default=10.0, ge=0, le=60)
    # Ed25519 private key (PEM). In development it is generated once under var/keys/.
    signing_key_pem: SecretStr | None = None
    signing_key_file: Path | None = None
    # Public keys (PEM) still published in the JWKS while tokens signed by them may live: key rotation.
    previous_public_keys_pem: list[str] = []
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    # Password hashes (sign-in, registration, staff) computed at once per process; more get a fast 503.
    max_concurrent_hashes: int = Field(default=2, ge=1, le=64)
    # Per account (shopper sign-in): this many wrong passwords within the window, then 429 until the
    # oldest of them leaves it. Kept in the database, so every replica sees the same count.
    sign_in_failures_per_account: int = Field(default=5, ge=1)
    sign_in_failure_window_seconds: int = Field(default=60, ge=1)

    # Notifications, asked for a customer's devices and messages when they export their data.
    notifications_url: str = ""  # default: the local topology's
    notifications_timeout_seconds: float = 5.0

    # --- the staff realm (docs/staff.md) -------------------------------------------------------------
    # Its own Ed25519 key, never the shoppers': a shopper token can then never pass for a staff token.
    staff_signing_key_pem: SecretStr | None = None
    staff_signing_key_file: Path | None = None
    staff_previous_public_keys_pem: list[str] = []
    staff_access_token_ttl_seconds: int = 600
    staff_refresh_token_ttl_hours: int = 12  # a working day; then password and code again
    staff_challenge_ttl_seconds: int = 300  # between the password and the second factor
    staff_lockout_threshold: int = 5  # consecutive failures (password or code) that lock an account
    staff_lockout_seconds: int = 900
    staff_temporary_password_hours: int = 72  # a password set by someone else must be replaced by then
    # TOTP secrets are encrypted under the data keys (DATA_KEYS, docs/security.md). These Fernet keys
    # encrypted them before: only migration 0005 reads them, to re-encrypt the secrets of that time.
    staff_totp_key: SecretStr | None = None
    staff_totp_key_file: Path | None = None
    staff_totp_previous_keys: list[SecretStr] = []
    staff_totp_issuer: str = "Mercato"  # the name authenticator apps show
    # Development only: `mercato up` creates this admin (with a one-time password) if there is no staff.
    staff_initial_admin_email: str = "admin@example.com"

    @model_validator(mode="after")
    def _notifications_location(self) -> CustomersSettings:
        self.notifications_url = self.notifications_url or Topology.from_env().service("notifications").url
        return self

    @model_validator(mode="after")
    def _signing_key_location(self) -> CustomersSettings:
        if self.signing_key_pem is None and self.signing_key_file is None:
            if self.environment != "development":
                raise ValueError(
                    "MERCATO_CUSTOMERS_SIGNING_KEY_PEM or MERCATO_CUSTOMERS_SIGNING_KEY_FILE must be set "
                    "outside development"
                )
            self.signing_key_file = var_dir() / "keys" / "customers-ed25519.pem"
        return self

    @model_validator(mode="after")
    def _staff_key_locations(self) -> CustomersSettings:
        keys = var_dir() / "keys"
        if self.staff_signing_key_pem is None and self.staff_signing_key_file is None:
            if self.environment != "development":
                raise ValueError(
                    "MERCATO_CUSTOMERS_STAFF_SIGNING_KEY_PEM or "
                    "MERCATO_CUSTOMERS_STAFF_SIGNING_KEY_FILE must be set outside development"
                )
            self.staff_signing_key_file = keys / "customers-staff-ed25519.pem"
        if self.staff_totp_key is None and self.staff_totp_key_file is None:
            self.staff_totp_key_file = keys / "customers-staff-totp.key"  # (if any: before 0005)
        same_file = (
            self.staff_signing_key_file is not None and self.staff_signing_key_file == self.signing_key_file
        )
        same_pem = self.staff_signing_key_pem is not None and (
            self.signing_key_pem is not None
            and self.staff_signing_key_pem.get_secret_value() == self.signing_key_pem.get_secret_value()
        )
        if same_file or same_pem:
            raise ValueError("the staff signing key must not be the shoppers' signing key")
        return self
