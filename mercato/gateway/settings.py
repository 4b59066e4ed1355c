"""Gateway policy knobs (JWT claims, rate limits, body size, admin allowlist), read from `MERCATO_GATEWAY_*`.

Ports and upstream addresses are not settings: they come from `mercato.topology`, so the gateway and
the services can never disagree about where a service listens.
"""

from __future__ import annotations

import json
from ipaddress import ip_network
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class GatewaySettings(BaseSettings):
    # Shopper and staff tokens share the issuer (customers signs both) but not the key or the audience:
    # the staff audience is fixed by the contract (`mercato.contracts.staff.STAFF_AUDIENCE`).
    jwt_issuer: str = "mercato-customers"
    jwt_audience: str = "mercato-shop"
    jwks_cache_seconds: int = 300
    # Token buckets, one per `Route.rate_limit` class: refilled at `*_rate_per_second`, holding at
    # most `*_burst` tokens. They are per Envoy process (shared by its worker threads).
    default_rate_per_second: int = 500
    default_burst: int = 1000
    auth_rate_per_second: int = 20
    auth_burst: int = 40
    # The cacheable public reads (catalog browsing, search): mostly answered from the gateway's cache.
    browse_rate_per_second: int = 5000
    browse_burst: int = 10000
    # Per client address, on the routes that check a password (sign-in, registration, staff sign-in):
    # this many a minute (and at once), then 429. The address is the TCP peer's, never a header.
    sign_in_per_address_per_minute: int = Field(default=10, ge=1, le=600)
    # Per client address, on the routes that check a secret code (a gift card's balance): guessing one
    # of 32^16 codes at this pace is hopeless. The front ends are exempt as above.
    code_per_address_per_minute: int = Field(default=10, ge=1, le=600)
    max_tracked_addresses: int = Field(default=10_000, ge=1)  # buckets kept (least recently used go)
    # Front ends that sign people in from their own address (the storefront and the admin app call the
    # gateway server-side): exempt from the per-address bucket, which would otherwise be all of their
    # users' together. Exact addresses; the route-wide bucket still applies to them.
    sign_in_front_ends: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    max_request_bytes: int = 1_048_576
    # Routes that take file uploads (product images, CSV imports): what catalog itself accepts.
    max_upload_bytes: int = 10 * 1_048_576 + 65_536
    access_log: bool = True
    # The gateway's HTTP cache for the routes marked `cacheable` (in memory, per Envoy process).
    cache: bool = True
    # Answers of the routes marked `compressed` (the mobile API's) are compressed (brotli or gzip, as the
    # client's Accept-Encoding asks) when they are text or JSON of at least this many bytes.
    compress_min_bytes: int = Field(default=256, ge=0)
    # The networks the back office (routes with auth "staff" and "staff-login") may be reached from,
    # matched against the TCP peer of the gateway: the admin app's own address, not its users'.
    # Comma-separated CIDRs (or a JSON list); a bare address means that one host; empty closes the door.
    admin_allowlist: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.1/32"), ip_network("::1/128")]
    )

    # Traces (mercato/gateway/tracing.py): an OTLP/HTTP receiver's base URL (`http://collector:4318`), or
    # empty for none; and the share of requests the gateway traces (Envoy's random sampling).
    otlp_endpoint: str = ""
    trace_sampling_percent: float = Field(default=100.0, ge=0, le=100)

    model_config = SettingsConfigDict(env_prefix="MERCATO_GATEWAY_", extra="ignore")

    @field_validator("sign_in_front_ends", mode="before")
    @classmethod
    def _split_front_ends(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("admin_allowlist", mode="before")
    @classmethod
    def _split_allowlist(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value
