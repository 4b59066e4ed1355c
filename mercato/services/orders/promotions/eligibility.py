"""Whether a cart promotion applies to a cart, and if not, why — in a sentence the shopper reads, naming
the amounts and markets (docs/promotions.md lists the reasons). Pure: the engine asks, nothing is read.

Conditions are weighed on the cart as catalog prices it (the eligible lines' `unit_price x quantity`,
sales applied), never on what earlier promotions left of it: whether a promotion applies does not depend
on the order the others are applied in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mercato.services.orders.pricing.money import text
from mercato.services.orders.promotions.rules import Conditions, Promotion, Tier

GIFT_CARD = "gift_card"


@dataclass(frozen=True)
class Item:
    """A quote's line as the engine weighs it."""

    sku: str
    product_id: str
    category_ids: tuple[str, ...]
    kind: str
    unit_price: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Cart:
    """What the conditions are weighed against."""

    items: Sequence[Item]
    market_id: str
    currency: str
    first_order: bool
    at: datetime


@dataclass(frozen=True)
class Rejection:
    reason: str  # a slug (docs/promotions.md)
    message: str


def eligible(conditions: Conditions, item: Item) -> bool:
    """Gift cards never are; with no item conditions every other line is; else a line whose SKU, product
    or one of its categories (the product's and every one above it) the promotion names."""
    if item.kind == GIFT_CARD:
        return False
    if not conditions.names_items:
        return True
    return (
        item.sku in conditions.skus
        or item.product_id in conditions.product_ids
        or not set(conditions.category_ids).isdisjoint(item.category_ids)
    )


def _date(at: datetime) -> str:
    return f"{at.day} {at:%B %Y}"


def _units(n: int) -> str:
    return f"{n} more eligible item{'s' if n != 1 else ''}"


def _short_of(label: str, cart: Cart, *, quantity: int, subtotal: int, tier: Tier | Conditions) -> str | None:
    """The sentence saying what is missing to reach `tier`'s minimums; None when they are reached."""
    minimum = tier.min_subtotal.get(cart.currency)
    if minimum is not None and subtotal < minimum:
        return (
            f"Spend {text(minimum, cart.currency)} or more on eligible items to use {label} "
            f"({text(minimum - subtotal, cart.currency)} more)."
        )
    if quantity < tier.min_quantity:
        return f"Add {_units(tier.min_quantity - quantity)} to use {label} (at least {tier.min_quantity})."
    return None


def reached(tier: Tier, currency: str, *, quantity: int, subtotal: int) -> bool:
    """Every minimum the tier names is reached; a minimum in other currencies only is never reached."""
    minimum = tier.min_subtotal.get(currency)
    if tier.min_subtotal and minimum is None:
        return False
    return quantity >= tier.min_quantity and (minimum is None or subtotal >= minimum)


def check(promotion: Promotion, label: str, cart: Cart) -> Rejection | None:
    """Why `promotion` does not apply to `cart` (`label`: the code it came by, else its name), or None."""
    conditions, action, currency = promotion.conditions, promotion.action, cart.currency
    if not promotion.active:
        return Rejection("inactive", f"{label} is no longer available.")
    if promotion.starts_at is not None and cart.at < promotion.starts_at:
        return Rejection("not-yet-valid", f"{label} can be used from {_date(promotion.starts_at)}.")
    if promotion.ends_at is not None and cart.at >= promotion.ends_at:
        return Rejection("expired", f"{label} expired on {_date(promotion.ends_at)}.")
    if conditions.markets and cart.market_id not in conditions.markets:
        where = ", ".join(m.upper() for m in conditions.markets)
        return Rejection(
            "wrong-market",
            f"{label} can't be used in this market ({cart.market_id.upper()}): only in {where}.",
        )
    in_currency = [
        *((conditions.min_subtotal,) if conditions.min_subtotal else ()),
        *((action.amounts,) if action.type == "fixed" else ()),
    ]
    if any(currency not in amounts for amounts in in_currency):
        return Rejection("wrong-market", f"{label} can't be used with prices in {currency}.")
    if conditions.first_order and not cart.first_order:
        return Rejection("first-order-only", f"{label} is for a first order only.")
    items = [item for item in cart.items if eligible(conditions, item)]
    if not items:
        return Rejection("no-eligible-items", f"None of the items in your cart qualify for {label}.")
    quantity, subtotal = sum(i.quantity for i in items), sum(i.amount for i in items)
    if short := _short_of(label, cart, quantity=quantity, subtotal=subtotal, tier=conditions):
        return Rejection("minimum-not-met", short)
    if action.type == "buy_x_get_y" and quantity < action.buy + action.get:
        return Rejection(
            "minimum-not-met",
            f"Add {_units(action.buy + action.get - quantity)} to use {label} "
            f"(buy {action.buy}, get {action.get}).",
        )
    if action.type == "tiered" and not any(
        reached(t, currency, quantity=quantity, subtotal=subtotal) for t in action.tiers
    ):
        lowest = min(
            (t for t in action.tiers if not t.min_subtotal or currency in t.min_subtotal),
            key=lambda t: (t.min_subtotal.get(currency, 0), t.min_quantity),
            default=None,
        )
        if lowest is None:
            return Rejection("wrong-market", f"{label} can't be used with prices in {currency}.")
        short = _short_of(label, cart, quantity=quantity, subtotal=subtotal, tier=lowest)
        return Rejection("minimum-not-met", short or f"{label} needs more eligible items.")
    return None


def not_combinable(label: str, blocker: Promotion) -> Rejection:
    return Rejection("not-combinable", f"{label} can't be combined with {blocker.name}.")
