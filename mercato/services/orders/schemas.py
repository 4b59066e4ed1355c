from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mercato.contracts.addresses import PostalAddress
from mercato.contracts.money import Money

Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CartItemIn(Input):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=99)] = 1


class CartItemPatch(Input):
    quantity: Annotated[int, Field(ge=1, le=99)]


class CartLineOut(BaseModel):
    sku: str
    product_id: str | None
    name: str | None
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money | None
    line_total: Money | None
    available: int = Field(description="Units that can be bought now; fewer than `quantity` means a problem.")
    purchasable: bool


class CartOut(BaseModel):
    lines: list[CartLineOut]
    subtotal: Money
    shipping: Money
    total: Money
    item_count: int
    purchasable: bool


class CheckoutIn(Input):
    shipping_address: PostalAddress
    payment_method: Annotated[
        str,
        StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,96}$"),
        Field(description="A token (pm_…) from the payment provider; card numbers are refused."),
    ]


class OrderLineOut(BaseModel):
    sku: str
    product_id: str
    name: str
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money
    line_total: Money


class StateChangeOut(BaseModel):
    state: str
    at: datetime
    reason: str | None


class PaymentSummary(BaseModel):
    status: str | None
    card_brand: str | None
    card_last4: str | None
    amount: Money
    refunded: Money


class OrderOut(BaseModel):
    id: str
    state: str
    lines: list[OrderLineOut]
    subtotal: Money
    shipping: Money
    total: Money
    shipping_address: dict
    payment: PaymentSummary
    history: list[StateChangeOut]
    created_at: datetime
    placed_at: datetime | None


class OrderSummary(BaseModel):
    id: str
    state: str
    total: Money
    item_count: int
    created_at: datetime
    placed_at: datetime | None
