"""Settings shared by every service; each service subclasses with its own env prefix.

`MERCATO_<SERVICE>_DATABASE_URL` is the only switch between the embedded profile (a SQLite file under
var/) and the scale-out profile (PostgreSQL). Secrets have development defaults so `make up` works on
a laptop, and the settings refuse to load with those defaults in any other environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.platform.crypto import BlindIndex, DataKeys, Keyring, parse_keys
from mercato.topology import HOST, Topology, var_dir

Environment = Literal["development", "test", "production"]

DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class ServiceSettings(BaseSettings):
    """Subclass per service, setting `service_name` and `model_config = service_config("NAME")`."""

    service_name: str = "service"
    environment: Environment = "development"
    host: str = HOST
    port: int = 0
    database_url: str = ""
    database_echo: bool = False
    database_pool_size: int = 10
    log_level: str = "INFO"
    # A log line per request: "notable" ones (5xx, or slower than slow_request_ms) or "all".
    log_requests: Literal["notable", "all"] = "notable"
    slow_request_ms: float = 500.0
    # Signs pagination cursors, so a client can't forge one that reads past its filter.
    cursor_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    max_body_bytes: int = 1_048_576

    # --- column-level encryption of personal data (docs/security.md) ---------------------------------
    # Services that keep personal data set `personal_data`; `blind_index` when they look values up.
    personal_data: ClassVar[bool] = False
    blind_index: ClassVar[bool] = False
    # A process without a database of its own (the mobile API) sets this False: no database URL, no
    # connection pool, readiness without a database.
    has_database: ClassVar[bool] = True
    # Data keys, `<id>:<base64url 32 bytes>`, newest first, separated by commas (scale-out: from a
    # secret); or a file of them, one a line (development default: var/keys/<service>-data.keys).
    data_keys: SecretStr | None = None
    data_key_file: Path | None = None
    # The blind index's own key (HMAC-SHA256), same format; only its first key is used.
    blind_index_key: SecretStr | None = None
    blind_index_key_file: Path | None = None
    _data_keys: DataKeys | None = PrivateAttr(default=None)

    model_config = SettingsConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _data_key_locations(self) -> ServiceSettings:
        if not self.personal_data:
            return self
        keys = var_dir() / "keys"
        prefix = (self.model_config.get("env_prefix") or "").upper()
        wanted = [("data_keys", "data_key_file", f"{self.service_name}-data.keys")]
        if self.blind_index:
            wanted.append(("blind_index_key", "blind_index_key_file", f"{self.service_name}-blind-index.key"))
        for value, file, default in wanted:
            if getattr(self, value) is None and getattr(self, file) is None:
                if self.environment == "production":  # (tests and development get a key file)
                    raise ValueError(
                        f"{prefix}{value.upper()} or {prefix}{file.upper()} must be set in production"
                    )
                setattr(self, file, keys / default)
        return self

    def keys(self) -> DataKeys | None:
        """This service's data keys (and blind index key), None for a service without personal data.
        In development, missing key files are made on first use."""
        if not self.personal_data:
            return None
        if self._data_keys is None:
            # A missing key file is made, but never in production: replicas would each make their own.
            create = self.environment != "production"
            if self.data_keys is not None:
                keyring = Keyring(parse_keys(self.data_keys.get_secret_value()))
            else:
                assert self.data_key_file is not None
                keyring = Keyring.from_file(self.data_key_file, create=create)
            blind = None
            if self.blind_index_key is not None:
                blind = BlindIndex(parse_keys(self.blind_index_key.get_secret_value())[0][1])
            elif self.blind_index_key_file is not None:
                blind = BlindIndex.from_file(self.blind_index_key_file, create=create)
            self._data_keys = DataKeys(keyring=keyring, blind_index=blind)
        return self._data_keys

    @model_validator(mode="after")
    def _defaults_from_topology(self) -> ServiceSettings:
        if not self.port:
            self.port = Topology.from_env().service(self.service_name).port
        if not self.database_url and self.has_database:
            self.database_url = f"sqlite+aiosqlite:///{var_dir() / 'db' / f'{self.service_name}.db'}"
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> ServiceSettings:
        if self.environment == "development":
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value() == DEVELOPMENT_SECRET:
                prefix = (self.model_config.get("env_prefix") or "").upper()
                raise ValueError(
                    f"{prefix}{name.upper()} still has its development default; "
                    f"set a real secret when the environment is {self.environment}"
                )
        return self


def service_config(service: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=f"MERCATO_{service.upper()}_", extra="ignore")
