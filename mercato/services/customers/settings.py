from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import var_dir


class CustomersSettings(ServiceSettings):
    model_config = service_config("customers")

    service_name: str = "customers"
    jwt_issuer: str = "mercato-customers"
    jwt_audience: str = "mercato-shop"
    access_token_ttl_seconds: int = 900  # short-lived: the refresh token carries the session
    refresh_token_ttl_days: int = 30
    # Ed25519 private key (PEM). In development it is generated once under var/keys/.
    signing_key_pem: SecretStr | None = None
    signing_key_file: Path | None = None
    # Public keys (PEM) still published in the JWKS while tokens signed by them may live: key rotation.
    previous_public_keys_pem: list[str] = []
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2

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
