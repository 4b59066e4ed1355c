"""Storefront knobs from `MERCATO_STOREFRONT_*`; its port and the gateway URL default to the topology."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.topology import HOST, Topology


class StorefrontSettings(BaseSettings):
    host: str = HOST
    port: int = Field(default_factory=lambda: Topology.from_env().storefront_port)
    # The only upstream the storefront ever calls.
    gateway_url: str = Field(default_factory=lambda: Topology.from_env().gateway_url)
    # Where shoppers reach the storefront: canonical URLs, sitemap and JSON-LD are absolute to it.
    public_url: str = Field(default_factory=lambda: Topology.from_env().storefront_url)
    gateway_timeout_seconds: float = 5.0
    page_size: int = 24
    featured_count: int = 8
    access_log: bool = True

    model_config = SettingsConfigDict(env_prefix="MERCATO_STOREFRONT_", extra="ignore")
