from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mercato.contracts.inputs import SINGLE_LINE, TEXT, Input
from mercato.contracts.money import Money, MoneyIn

ORDER_ID_PATTERN = r"^ord_[0-9A-HJKMNP-TV-Z]{26}$"
OrderId = Annotated[
    str,
    StringConstraints(pattern=ORDER_ID_PATTERN),
    Field(description="An order's id (`ord_` and 26 characters)."),
]


GiftCardCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    SINGLE_LINE,
    Field(description="A gift card's code as typed: `XXXX-XXXX-XXXX-XXXX`, dashes and spaces optional."),
]


class PaymentIn(Input):
    order_id: OrderId
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=40), SINGLE_LINE]
    amount: MoneyIn
    payment_method: (
        Annotated[
            str,
            StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,96}$"),
            Field(description="A provider token (pm_…) made by the client; never a card number."),
        ]
        | None
    ) = Field(default=None, description="Needed unless the gift cards pay the whole amount.")
    gift_cards: Annotated[list[GiftCardCode], Field(max_length=5)] = Field(
        default_factory=list,
        description="Gift card codes, debited in this order (each what it holds, up to what is left) "
        "before the card is charged the rest (docs/gift-cards.md).",
    )
    description: Annotated[str, StringConstraints(max_length=200), SINGLE_LINE] | None = None


class RequestedBy(Input):
    """The staff member behind a refund, as the calling service verified them."""

    staff_id: Annotated[str, StringConstraints(pattern=r"^stf_[0-9A-HJKMNP-TV-Z]{26}$")]
    source_ip: Annotated[str, StringConstraints(max_length=200), SINGLE_LINE] | None = None


class RefundIn(Input):
    refund_key: Annotated[str, StringConstraints(min_length=1, max_length=100), SINGLE_LINE] = Field(
        description="Unique per refund the caller intends: repeating it never refunds twice; "
        "using it again for another amount or reason is a 409."
    )
    amount: Annotated[int, Field(ge=1)] | None = Field(default=None, description="Default: all that is left.")
    reason: Annotated[str, StringConstraints(max_length=200), TEXT] = "requested_by_customer"
    requested_by: RequestedBy | None = Field(
        default=None, description="Set when staff asked: kept on the record and put on the audit trail."
    )


class CardOut(BaseModel):
    brand: str | None
    last4: str | None


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    amount: int
    currency: str
    provider_ref: str | None
    detail: dict[str, Any]
    created_at: datetime


class TenderOut(BaseModel):
    """How (part of) a payment was made: a gift card, or the card for the rest."""

    kind: Literal["gift_card", "card"]
    gift_card_id: str | None = None
    last4: str | None = Field(description="The gift card code's or the card's last four characters.")
    amount: Money
    refunded: Money


class PaymentOut(BaseModel):
    id: str
    order_id: str
    status: str
    amount: Money
    captured: Money
    refunded: Money
    card: CardOut
    provider_intent_id: str | None
    decline_code: str | None
    tenders: list[TenderOut] = Field(
        default_factory=list, description="Gift cards first, in the order they paid, then the card."
    )
    records: list[RecordOut] = []


# --- back office ---------------------------------------------------------------------------------


class TrailRecordOut(BaseModel):
    """One fact of the payment trail. Card data never appears: the payment shows brand and last4 only."""

    id: int
    kind: str = Field(
        description="intent_created | authorised | captured | failed | voided | refunded | disputed"
    )
    amount: Money
    provider_ref: str | None = Field(description="The provider's id: intent, charge, refund or dispute.")
    reason: str | None
    decline_code: str | None
    staff_id: str | None = Field(description="Who asked for it, when staff did (refunds).")
    source: str = Field(
        description="`mercato`, or `provider` for what arrived by webhook (e.g. a dashboard refund)."
    )
    created_at: datetime


class StaffPaymentOut(BaseModel):
    id: str
    order_id: str
    customer_id: str
    status: str
    amount: Money
    captured: Money
    refunded: Money
    card: CardOut
    provider_intent_id: str | None
    decline_code: str | None
    created_at: datetime
    updated_at: datetime
    records: list[TrailRecordOut]
