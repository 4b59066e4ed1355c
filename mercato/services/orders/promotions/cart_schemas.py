"""The cart's codes and the promotions applied, as the cart and order answers show them (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.inputs import Input
from mercato.contracts.money import Money

PromotionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"),
    Field(description="A promotion code, as printed (letters, digits, `-`, `_`); case does not matter."),
]


class CodeIn(Input):
    code: PromotionCode


class CartCodeOut(BaseModel):
    """A code on the cart and what became of it at this quote."""

    code: str = Field(examples=["SUMMER10"])
    status: Literal["applied", "rejected"]
    applied: bool = Field(description="`status` is `applied`.")
    promotion: str | None = Field(description="The name of the promotion it is for; null: unknown code.")
    reason: str | None = Field(
        description="Why it is not applied (a slug: `expired`, `minimum-not-met`, `not-combinable`, "
        "`usage-exhausted`… docs/promotions.md lists them); null when applied."
    )
    message: str | None = Field(description="The reason as a sentence for the shopper; null when applied.")
    discount: Money = Field(description="What it takes off (zero when not applied).")


class AppliedPromotionOut(BaseModel):
    """A cart promotion applied (automatic, or by `code`) and everything it takes off."""

    promotion_id: str
    name: str
    code: str | None = Field(description="The code it is applied by; null: automatic.")
    amount: Money
