"""The one rounding rule (docs/money.md): round half up to the minor unit once per group, then spread
the rounded amount over the group's members by largest remainder, ties to the earlier member."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def spread(total: int, shares: Sequence[Decimal]) -> list[int]:
    """`total` (already rounded) split over members whose exact shares are `shares`: each gets its share
    rounded down, and the units left go one each to the largest remainders (the earlier on a tie)."""
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in shares]
    left = total - sum(floors)
    ranked = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in ranked[: max(left, 0)]:
        floors[i] += 1
    return floors
