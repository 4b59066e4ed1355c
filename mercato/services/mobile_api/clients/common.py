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
