"""Settings shared by every service; each service subclasses with its own env prefix.

`MERCATO_<SERVICE>_DATABASE_URL` is the only switch between the embedded profile (a SQLite file under
var/) and the scale-out profile (PostgreSQL). Secrets have development defaults so `make up` works on
a laptop, and the settings refuse to load with those defaults in any other environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # Signs pagination cursors, so a client can't forge one that reads past its filter.
    cursor_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    max_body_bytes: int = 1_048_576

    model_config = SettingsConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _defaults_from_topology(self) -> ServiceSettings:
        if not self.port:
            self.port = Topology.from_env().service(self.service_name).port
        if not self.database_url:
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
