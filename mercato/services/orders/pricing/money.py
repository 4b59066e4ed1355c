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


def refunded_tax(tax_lines: Sequence[int], total: int, refunded: int) -> list[int]:
    """The tax refunded so far, per tax line, once `refunded` of an order's `total` is refunded in all:
    the order's tax x refunded / total, rounded half up once and spread over its tax lines by largest
    remainder. Cumulative, so a refund's tax is this after it minus this before it: however an order is
    refunded, the refunds' tax adds up to exactly the tax it carried, never more (docs/money.md)."""
    if total <= 0 or refunded <= 0:
        return [0] * len(tax_lines)
    shares = [Decimal(tax) * min(refunded, total) / total for tax in tax_lines]
    return spread(round_half_up(sum(shares, Decimal(0))), shares)


def units_paid(paid: int, quantity: int, units: int) -> int:
    """What `units` of a line's `quantity` paid, of the `paid` the whole line paid: rounded half up
    once. Cumulative, so refunding units r+1..r+k pays back `units_paid(r + k) - units_paid(r)`: a line's
    refunds, in any pieces, add up to exactly what it paid (docs/money.md)."""
    if quantity <= 0:
        return 0
    return round_half_up(Decimal(paid) * min(units, quantity) / quantity)


# Currencies whose minor unit is not a hundredth (ISO 4217 exponent), and the symbols shoppers read.
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def text(amount: int, currency: str) -> str:
    """An amount for a sentence a shopper reads: 1200 EUR → "€12.00", 150000 USD → "$1,500.00"."""
    exponent = EXPONENTS.get(currency, 2)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    major, minor = divmod(amount, 10**exponent)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
