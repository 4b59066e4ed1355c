from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.emails import MAX_LENGTH
from mercato.contracts.inputs import SINGLE_LINE, Input
from mercato.services.orders.clients import SentMessage
from mercato.services.orders.schemas import StaffOrderOut


class ClaimIn(Input):
    token: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$"),
        Field(description="The `t` of the link e-mailed to the account's address (GuestOrdersFound)."),
    ]


class ClaimOut(BaseModel):
    claimed: int = Field(
        description="Guest orders added to the account now (0 if the link was used already)."
    )


class GuestIn(Input):
    email: Annotated[str, StringConstraints(min_length=3, max_length=MAX_LENGTH), SINGLE_LINE] = Field(
        description="The guest's address as they gave it at checkout (any case or spelling: normalised)."
    )


class GuestExport(BaseModel):
    email: str
    orders: list[StaffOrderOut] = Field(description="Every order bought as a guest with the address.")
    messages: list[SentMessage] = Field(description="Every message written to the guest about them.")


class GuestErasure(BaseModel):
    erased: int = Field(description="Orders stripped of the guest's name, address and e-mail now.")
