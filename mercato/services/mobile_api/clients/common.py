"""What both kinds of client share: query parameters, path segments, money as the services write it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from mercato.contracts.money import Money

Params = Sequence[tuple[str, str | int]]  # query parameters, repeatable


def segment(value: str) -> str:
    """A path parameter as one path segment, whatever it holds (`?`, `#`, `%`...)."""
    return quote(value, safe="")


def money(body: dict[str, Any]) -> Money:
    return Money.model_validate(body)


def in_market(country: str | None) -> dict[str, str]:
    """The query parameter pricing a catalog or search answer in `country`'s market (none: the default
    market's)."""
    return {"country": country} if country else {}
