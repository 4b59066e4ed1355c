"""What an applied promotion takes off: each action works on what is left of the eligible lines after the
promotions applied before it, never below zero, in integer minor units (docs/money.md, "Discounts").

One rounding rule: an amount worked out with a percentage is rounded half up once per promotion (on the
eligible lines' remaining amounts), then spread over those lines by largest remainder; a fixed amount per
unit is exact; a fixed amount off the order is spread by largest remainder in proportion to what is left
of the eligible lines. The lines' shares therefore always sum exactly to what the promotion took off.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from mercato.services.orders.pricing.money import round_half_up, spread
from mercato.services.orders.promotions.eligibility import Item, reached
from mercato.services.orders.promotions.rules import Action

HUNDRED = Decimal(100)


def _percent(value: Decimal | None, default: Decimal = Decimal(0)) -> Decimal:
    """A percentage between 0 and 100 (`default` when unset)."""
    return min(max(value if value is not None else default, Decimal(0)), HUNDRED)


def _spread_exact(shares: Sequence[Decimal]) -> list[int]:
    return spread(round_half_up(sum(shares, Decimal(0))), shares)


def percentage(percent: Decimal, left: Sequence[int]) -> list[int]:
    """`percent` of what is left of each eligible line, rounded once on their sum."""
    return _spread_exact([Decimal(amount) * percent / HUNDRED for amount in left])


def fixed_per_unit(amount: int, items: Sequence[Item], left: Sequence[int]) -> list[int]:
    return [min(amount * item.quantity, rest) for item, rest in zip(items, left, strict=True)]


def fixed_per_order(amount: int, left: Sequence[int]) -> list[int]:
    """`amount` (at most what is left) spread over the lines in proportion to what is left of each."""
    rest = sum(left)
    if rest <= 0:
        return [0] * len(left)
    off = min(amount, rest)
    return spread(off, [Decimal(part) * off / rest for part in left])


def buy_x_get_y(action: Action, items: Sequence[Item], left: Sequence[int]) -> list[int]:
    """Per set of `buy + get` eligible units, `get` units `percent` off (100 when unset: free) — the
    cheapest units of the cart's eligible ones (the earlier line on a tie), as many as the sets. A unit's
    amount is what is left of its line divided among the line's units."""
    size = action.buy + action.get
    units = sum(item.quantity for item in items)
    if size <= 0 or action.get <= 0:
        return [0] * len(items)
    free = units // size * action.get
    chosen = [0] * len(items)
    for i in sorted(range(len(items)), key=lambda i: (items[i].unit_price, i)):
        chosen[i] = min(items[i].quantity, free)
        free -= chosen[i]
    percent = _percent(action.percent, HUNDRED)
    return _spread_exact(
        [
            Decimal(rest) * count / item.quantity * percent / HUNDRED
            for item, rest, count in zip(items, left, chosen, strict=True)
        ]
    )


def tier_percent(action: Action, items: Sequence[Item], currency: str) -> Decimal:
    """The percentage of the highest tier the eligible lines reach (0: none)."""
    quantity, subtotal = sum(i.quantity for i in items), sum(i.amount for i in items)
    return max(
        (
            _percent(t.percent)
            for t in action.tiers
            if reached(t, currency, quantity=quantity, subtotal=subtotal)
        ),
        default=Decimal(0),
    )


def line_amounts(action: Action, items: Sequence[Item], left: Sequence[int], currency: str) -> list[int]:
    """What the action takes off each eligible line (free shipping takes nothing off lines)."""
    if action.type == "percentage":
        return percentage(_percent(action.percent), left)
    if action.type == "tiered":
        return percentage(tier_percent(action, items, currency), left)
    if action.type == "fixed":
        amount = action.amounts[currency]
        if action.target == "order":
            return fixed_per_order(amount, left)
        return fixed_per_unit(amount, items, left)
    if action.type == "buy_x_get_y":
        return buy_x_get_y(action, items, left)
    return [0] * len(items)
