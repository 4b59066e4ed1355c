"""Storefront knobs from `MERCATO_STOREFRONT_*`; its port and the gateway URL default to the topology.

The session secret has a development default so `make up` works on a laptop; like the services'
settings (mercato/platform/settings.py, which the storefront must not import), it is refused in any
other environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.topology import HOST, Topology

DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class StorefrontSettings(BaseSettings):
    environment: Literal["development", "test", "production"] = "development"
    host: str = HOST
    port: int = Field(default_factory=lambda: Topology.from_env().storefront_port)
    # The only upstream the storefront ever calls.
    gateway_url: str = Field(default_factory=lambda: Topology.from_env().gateway_url)
    # Where shoppers reach the storefront: canonical URLs, sitemap and JSON-LD are absolute to it.
    public_url: str = Field(default_factory=lambda: Topology.from_env().storefront_url)
    # Signs the CSRF tokens of every form.
    session_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # The browser tokenises cards here itself: a card number never reaches Mercato.
    payment_sandbox_url: str = Field(default_factory=lambda: Topology.from_env().payment_sandbox_url)
    payment_publishable_key: str = "pk_test_mercato_sandbox"
    refresh_cookie_days: int = 30
    gateway_timeout_seconds: float = 5.0
    # How long a catalog or search answer — and an anonymous visitor's page made from it — is used before
    # the gateway is asked again (If-None-Match): the longest a changed price or stock level goes unseen
    # here. Browsers may keep a page one second more (max-age=1). 0 asks the gateway on every page.
    fresh_seconds: float = Field(default=1.0, ge=0, le=60)
    kept_answers: int = Field(default=1000, ge=1)  # catalog and search answers kept (least recently used go)
    kept_pages: int = Field(default=1000, ge=1)  # anonymous visitors' pages kept
    page_size: int = 24
    featured_count: int = 8
    access_log: bool = True

    model_config = SettingsConfigDict(env_prefix="MERCATO_STOREFRONT_", extra="ignore")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> StorefrontSettings:
        if self.environment != "development" and self.session_secret.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError(
                "MERCATO_STOREFRONT_SESSION_SECRET still has its development default; "
                f"set a real secret when the environment is {self.environment}"
            )
        return self
