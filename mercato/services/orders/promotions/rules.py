"""A promotion as the quote weighs it: when and where it applies (conditions), what it takes off
(action), and how it stacks (priority, combines) — parsed from the JSON the back office stores
(docs/promotions.md has the shapes).

Three triggers: `sale` (a catalogue promotion: catalog shows and prices it, so the quote sees its price
as the line's unit price), `automatic` (a cart promotion applied whenever its conditions hold) and `code`
(a cart promotion applied when the shopper enters one of its codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

Trigger = Literal["sale", "automatic", "code"]
ActionType = Literal["percentage", "fixed", "buy_x_get_y", "free_shipping", "tiered"]


@dataclass(frozen=True)
class Conditions:
    """All must hold. Empty collections mean "any"; the item conditions (products, categories, SKUs) say
    which lines are eligible — the action takes off eligible lines only (gift cards never are)."""

    markets: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()  # a category covers every one below it
    skus: tuple[str, ...] = ()
    min_subtotal: Mapping[str, int] = field(default_factory=dict)  # currency → minor units, eligible lines
    min_quantity: int = 0  # eligible units
    first_order: bool = False  # only a buyer with no placed order yet

    @property
    def names_items(self) -> bool:
        return bool(self.product_ids or self.category_ids or self.skus)

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Conditions:
        return cls(
            markets=tuple(body.get("markets") or ()),
            product_ids=tuple(body.get("product_ids") or ()),
            category_ids=tuple(body.get("category_ids") or ()),
            skus=tuple(body.get("skus") or ()),
            min_subtotal=dict(body.get("min_subtotal") or {}),
            min_quantity=int(body.get("min_quantity") or 0),
            first_order=bool(body.get("first_order")),
        )


@dataclass(frozen=True)
class Tier:
    """Reached when the eligible lines come to `min_quantity` units or `min_subtotal` (in the cart's
    currency); the highest tier reached applies its percentage."""

    percent: Decimal
    min_quantity: int = 0
    min_subtotal: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """What a promotion takes off.

    - percentage: `percent` off the eligible lines (`target` "lines") or off the order's eligible
      subtotal (`target` "order") — the same amount, allocated to the lines either way.
    - fixed: `amounts[currency]` off each eligible unit ("lines") or once off the eligible subtotal
      ("order"), never more than what is left of it.
    - buy_x_get_y: per set of `buy` + `get` eligible units, the `get` cheapest are `percent` off (100:
      free), as many sets as the cart holds (7 units, buy 2 get 1: two sets, two units free).
    - free_shipping: the chosen shipping method's price.
    - tiered: the percentage of the highest tier reached, off the eligible lines.
    """

    type: ActionType
    target: Literal["lines", "order"] = "lines"
    percent: Decimal | None = None
    amounts: Mapping[str, int] = field(default_factory=dict)
    buy: int = 0
    get: int = 0
    tiers: tuple[Tier, ...] = ()

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Action:
        def percent(value: Any) -> Decimal | None:
            return Decimal(str(value)) if value is not None else None

        return cls(
            type=body["type"],
            target=body.get("target") or "lines",
            percent=percent(body.get("percent")),
            amounts=dict(body.get("amounts") or {}),
            buy=int(body.get("buy") or 0),
            get=int(body.get("get") or 0),
            tiers=tuple(
                Tier(
                    percent=Decimal(str(t["percent"])),
                    min_quantity=int(t.get("min_quantity") or 0),
                    min_subtotal=dict(t.get("min_subtotal") or {}),
                )
                for t in body.get("tiers") or ()
            ),
        )


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    trigger: Trigger
    conditions: Conditions
    action: Action
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0  # higher is weighed first
    combines: bool = True  # False: exclusive — applies alone among cart promotions
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    used: int = 0  # as last read: the checkout's conditional UPDATE is what enforces the limit

    @classmethod
    def parse(cls, row: Any) -> Promotion:
        """From a `PromotionRow` (or anything with its attributes)."""
        return cls(
            id=row.id,
            name=row.name,
            trigger=row.trigger,
            conditions=Conditions.parse(row.conditions or {}),
            action=Action.parse(row.action),
            active=row.active,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            priority=row.priority,
            combines=row.combines,
            usage_limit=row.usage_limit,
            per_customer_limit=row.per_customer_limit,
            used=row.used,
        )


@dataclass(frozen=True)
class Offer:
    """A cart promotion a quote weighs: an automatic one, or one a code on the cart brought."""

    promotion: Promotion
    code: str | None = None


@dataclass(frozen=True)
class Refused:
    """A code on the cart refused before the quote weighs it (the lookup found it unknown, used up, or
    used as often as this buyer may): it is shown with its reason."""

    code: str
    reason: str  # a slug: unknown-code | usage-exhausted | already-used
    message: str
    promotion_name: str | None = None


@dataclass(frozen=True)
class Offers:
    """Everything promotions bring to one quote."""

    at: datetime
    offers: tuple[Offer, ...] = ()
    refused: tuple[Refused, ...] = ()
    codes: tuple[str, ...] = ()  # the cart's codes as entered: the answer accounts for each, in order
    first_order: bool = True  # the buyer has no placed order yet


# --- what the quote answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedDiscount:
    promotion_id: str
    name: str
    code: str | None
    type: ActionType
    amount: int  # everything it took off: its lines' shares plus `shipping_amount`
    shipping_amount: int
    lines: tuple[tuple[str, int], ...]  # (sku, amount) for each line it took something off


@dataclass(frozen=True)
class CodeOutcome:
    """What became of one code on the cart: applied (with what it took off), or rejected with a reason the
    shopper can read."""

    code: str
    applied: bool
    promotion_name: str | None
    reason: str | None  # a slug, when rejected (docs/promotions.md lists them)
    message: str | None
    amount: int = 0
