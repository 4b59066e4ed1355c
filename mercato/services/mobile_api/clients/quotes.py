"""The parts of orders' quote that a cart and an order share (CONTRACT-15: markets, totals, tax lines, a
shipping method), parsed as orders writes them. The mobile API never computes a figure: every amount here
is one orders answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.contracts.money import Money
from mercato.services.mobile_api.clients.common import money


@dataclass(frozen=True)
class Totals:
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Totals:
        names = ("subtotal", "discount", "shipping", "tax", "total")
        return cls(**{name: money(body[name]) for name in names})


@dataclass(frozen=True)
class TaxLine:
    rate: str  # a decimal percentage as orders writes it: "19", "5.5"
    label: str
    amount: Money

    @classmethod
    def parse_all(cls, body: list[dict[str, Any]]) -> tuple[TaxLine, ...]:
        return tuple(
            cls(rate=str(line["rate"]), label=line["label"], amount=money(line["amount"])) for line in body
        )


@dataclass(frozen=True)
class ShippingMethod:
    id: str
    name: str
    kind: str  # standard | express | click_and_collect
    price: Money
    min_days: int | None
    max_days: int | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ShippingMethod:
        estimate = body.get("estimate") or {}
        return cls(
            id=body["id"],
            name=body["name"],
            kind=body.get("kind") or "standard",
            price=money(body["price"]),
            min_days=estimate.get("min_days"),
            max_days=estimate.get("max_days"),
        )

    @classmethod
    def parse_optional(cls, body: dict[str, Any] | None) -> ShippingMethod | None:
        return cls.parse(body) if body else None


def optional_money(body: dict[str, Any] | None) -> Money | None:
    return money(body) if body else None
