"""Customers, as the checkout screen uses it: the shopper's e-mail and address book."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mercato.platform.auth import Shopper
from mercato.platform.clients import ServiceClient
from mercato.services.mobile_api.clients.shopping import identity


@dataclass(frozen=True)
class Address:
    id: str
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    phone: str | None
    is_default: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Address:
        fields = ("id", "name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
        return cls(**{name: body.get(name) for name in fields}, is_default=body["is_default"])


@dataclass(frozen=True)
class Account:
    email: str
    addresses: tuple[Address, ...]


class Customers:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = ServiceClient("customers", base_url, timeout=timeout)

    async def account(self, shopper: Shopper) -> Account:
        """The shopper's e-mail and address book (its first 100 entries), in one go."""
        me, book = await asyncio.gather(
            self.client.request("GET", "/api/v1/me", headers=identity(shopper)),
            self.client.request(
                "GET", "/api/v1/me/addresses", params={"limit": 100}, headers=identity(shopper)
            ),
        )
        return Account(email=me["email"], addresses=tuple(Address.parse(entry) for entry in book["data"]))
