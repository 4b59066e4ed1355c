from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from mercato.contracts.emails import EmailAddress
from mercato.contracts.inputs import TEXT, Input
from mercato.contracts.money import Money, MoneyIn

GIFT_CARD_ID_PATTERN = r"^gft_[0-9A-HJKMNP-TV-Z]{26}$"
GiftCardId = Annotated[
    str, StringConstraints(pattern=GIFT_CARD_ID_PATTERN), Field(description="A gift card's id (`gft_…`).")
]
MAX_AMOUNT = 1_000_000  # minor units: what staff may put on one card


class GiftCardBalanceOut(BaseModel):
    """What anyone holding the code may know of the card."""

    last4: str = Field(description="The code's last four characters.")
    balance: Money
    expires_at: datetime | None
    state: Literal["active", "disabled", "expired"]


class GiftCardIssueIn(Input):
    amount: MoneyIn = Field(description=f"The card's balance: at least 1, at most {MAX_AMOUNT} minor units.")
    recipient_email: EmailAddress | None = Field(
        default=None, description="Where the code is e-mailed; none: staff hand it over themselves."
    )
    note: Annotated[str, StringConstraints(max_length=200), TEXT] | None = Field(
        default=None, description="Why it was issued (kept with the card, for the back office)."
    )
    expires_at: Annotated[AwareDatetime, Field(strict=False)] | None = Field(
        default=None, description="When it stops paying (ISO 8601 with a time zone); none: never."
    )


class GiftCardOut(BaseModel):
    """A card as the back office sees it: never its code (shown once, when issued)."""

    id: str
    last4: str
    balance: Money
    initial: Money
    state: Literal["active", "disabled"]
    expires_at: datetime | None
    order_id: str | None = Field(description="The order it was bought in; null when staff issued it.")
    issued_by: str | None = Field(description="The staff member who issued it.")
    note: str | None
    created_at: datetime


class IssuedGiftCardOut(GiftCardOut):
    code: str = Field(description="`XXXX-XXXX-XXXX-XXXX`: shown this once, never again by the back office.")


class LedgerEntryOut(BaseModel):
    id: int
    kind: Literal["issued", "redeemed", "reversed", "refunded", "adjusted"]
    order_id: str | None
    amount: int = Field(description="Signed, in minor units of the card's currency: - redeemed, + the rest.")
    balance_after: int
    staff_id: str | None
    at: datetime


class GiftCardDetailOut(GiftCardOut):
    entries: list[LedgerEntryOut] = Field(description="The append-only ledger, oldest first.")


class GiftCardCodeOut(BaseModel):
    """For notifications, which e-mails it (internal only)."""

    id: str
    code: str = Field(description="`XXXX-XXXX-XXXX-XXXX`.")
    last4: str
    balance: Money
    expires_at: datetime | None
