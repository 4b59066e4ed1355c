"""Gateway policy knobs (JWT claims, rate limits, body size), read from `MERCATO_GATEWAY_*`.

Ports and upstream addresses are not settings: they come from `mercato.topology`, so the gateway and
the services can never disagree about where a service listens.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    jwt_issuer: str = "mercato-customers"
    jwt_audience: str = "mercato-shop"
    jwks_cache_seconds: int = 300
    # Token buckets, one per `Route.rate_limit` class: refilled at `*_rate_per_second`, holding at
    # most `*_burst` tokens. They are per Envoy process (shared by its worker threads).
    default_rate_per_second: int = 500
    default_burst: int = 1000
    auth_rate_per_second: int = 20
    auth_burst: int = 40
    max_request_bytes: int = 1_048_576
    access_log: bool = True

    model_config = SettingsConfigDict(env_prefix="MERCATO_GATEWAY_", extra="ignore")
