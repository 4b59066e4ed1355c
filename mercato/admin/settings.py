"""Admin app knobs from `MERCATO_ADMIN_*`; its port and the gateway URL default to the topology.

Like the storefront's, the session secret has a development default that is refused in any other
environment. `allowed_networks` is the admin app's own allowlist of browser addresses: the gateway's
allowlist sees the admin app as the client, so the people behind it are checked here.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.topology import HOST, Topology

DEVELOPMENT_SECRET = "development-only-admin-secret-change-me"  # noqa: S105 - refused outside development


class AdminSettings(BaseSettings):
    environment: Literal["development", "test", "production"] = "development"
    host: str = HOST
    port: int = Field(default_factory=lambda: Topology.from_env().admin_port)
    gateway_url: str = Field(default_factory=lambda: Topology.from_env().gateway_url)
    public_url: str = Field(default_factory=lambda: Topology.from_env().admin_url)
    session_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    allowed_networks: list[IPv4Network | IPv6Network] = Field(
        default_factory=lambda: [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]
    )
    refresh_cookie_hours: int = 12  # a working day: staff sign in again (with their second factor) each day
    gateway_timeout_seconds: float = 30.0  # bulk imports and exports take a while
    page_size: int = 25
    access_log: bool = True

    model_config = SettingsConfigDict(env_prefix="MERCATO_ADMIN_", extra="ignore")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> AdminSettings:
        if self.environment != "development" and self.session_secret.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError(
                "MERCATO_ADMIN_SESSION_SECRET still has its development default; "
                f"set a real secret when the environment is {self.environment}"
            )
        return self
