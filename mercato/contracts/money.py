"""Money on the wire: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Annotated[int, Field(ge=0, examples=[1999])]
    currency: Currency
