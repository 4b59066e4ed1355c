"""Money on the wire: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mercato.contracts.currencies import Currency
from mercato.contracts.inputs import Input

__all__ = ["Currency", "Money", "MoneyIn"]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Annotated[int, Field(ge=0, examples=[1999])]
    currency: Currency


class MoneyIn(Input, Money):
    """Money in a request body: as `Money`, with strict types (`"1999"` is not an amount)."""
