"""What orders says of promotions and tenders, as the shopper's screens use it: the codes on a cart (each
applied, or rejected with the reason a shopper reads), the discounts a quote applied, and an order's
promotions and tenders (gift cards, the card) — docs/promotions.md, docs/gift-cards.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.contracts.money import Money
from mercato.services.mobile_api.clients.common import money


@dataclass(frozen=True)
class CodeState:
    code: str
    applied: bool
    promotion: str | None
    reason: str | None  # a slug when rejected: expired, minimum-not-met, not-combinable…
    message: str | None  # the sentence the shopper reads
    discount: Money

    @classmethod
    def parse_all(cls, body: list[dict[str, Any]] | None) -> tuple[CodeState, ...]:
        return tuple(
            cls(
                code=entry["code"],
                applied=bool(entry["applied"]),
                promotion=entry.get("promotion"),
                reason=entry.get("reason"),
                message=entry.get("message"),
                discount=money(entry["discount"]),
            )
            for entry in body or ()
        )


@dataclass(frozen=True)
class Discount:
    """A promotion a quote (or an order) applied: the cart's `discounts`, the order's `promotions`."""

    promotion_id: str
    name: str
    code: str | None
    amount: Money

    @classmethod
    def parse_all(cls, body: list[dict[str, Any]] | None) -> tuple[Discount, ...]:
        return tuple(
            cls(
                promotion_id=entry["promotion_id"],
                name=entry["name"],
                code=entry.get("code"),
                amount=money(entry["amount"]),
            )
            for entry in body or ()
        )


@dataclass(frozen=True)
class Tender:
    """How an order was paid: a gift card's part, the card's."""

    kind: str  # gift_card | card
    last4: str | None
    amount: Money

    @classmethod
    def parse_all(cls, body: list[dict[str, Any]] | None) -> tuple[Tender, ...]:
        return tuple(
            cls(kind=entry["kind"], last4=entry.get("last4"), amount=money(entry["amount"]))
            for entry in body or ()
        )
