"""Catalog's markets, the one thing search asks catalog for outside a rebuild: which currency a country
pays in. Parsed into a small typed model (use cases never read a payload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.platform.clients import ServiceClient


@dataclass(frozen=True)
class Market:
    id: str
    currency: str
    countries: tuple[str, ...]
    default: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Market:
        return cls(
            id=str(body["id"]),
            currency=str(body["currency"]).upper(),
            countries=tuple(str(c).upper() for c in body["countries"]),
            default=bool(body.get("default", False)),
        )


async def fetch_markets(catalog: ServiceClient) -> list[Market]:
    """`GET /internal/markets` of catalog (ServiceUnavailable when it does not answer)."""
    return [Market.parse(item) for item in await catalog.request("GET", "/internal/markets")]
