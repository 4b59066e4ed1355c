"""Money as the API sends it (integer minor units and an ISO 4217 code), for people to read."""

from __future__ import annotations

from typing import Any

# Currencies whose minor unit is not 1/100 (ISO 4217 exponent).
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


def decimal_string(money: dict[str, Any]) -> str:
    """Integer minor units as a plain decimal string ("24.50"), by integer arithmetic only."""
    amount, exponent = int(money["amount"]), EXPONENTS.get(money["currency"], 2)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if exponent == 0:
        return f"{sign}{amount}"
    major, minor = divmod(amount, 10**exponent)
    return f"{sign}{major}.{minor:0{exponent}d}"


def format_money(money: dict[str, Any] | None) -> str:
    if not money:
        return ""
    number = decimal_string(money)
    major, _, minor = number.partition(".")
    grouped = f"{int(major):,}" + (f".{minor}" if minor else "")
    symbol = SYMBOLS.get(money["currency"])
    return f"{symbol}{grouped}" if symbol else f"{grouped} {money['currency']}"
