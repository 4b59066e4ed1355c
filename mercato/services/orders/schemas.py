from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from mercato.contracts.addresses import PostalAddress
from mercato.contracts.carriers import carrier_name
from mercato.contracts.emails import EmailAddress
from mercato.contracts.inputs import SINGLE_LINE, TEXT, Input
from mercato.contracts.money import Money, MoneyIn
from mercato.services.orders.promotions.cart_schemas import AppliedPromotionOut, CartCodeOut

Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]


class CartItemIn(Input):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=99)] = 1


class CartItemPatch(Input):
    quantity: Annotated[int, Field(ge=1, le=99)]


Rate = Annotated[str, Field(description="A decimal percentage: `19`, `5.5`, `8.875`.", examples=["19"])]


class MarketOut(BaseModel):
    id: str = Field(examples=["eu"])
    currency: str
    prices_include_tax: bool = Field(description="Prices (and shipping) are gross; else tax is added.")


class Estimate(BaseModel):
    min_days: int
    max_days: int


class ShippingMethodOut(BaseModel):
    id: str
    name: str
    kind: str = Field(description="standard | express | click_and_collect")
    price: Money = Field(description="Gross where the market's prices include tax, net where they do not.")
    estimate: Estimate


class ShippingMethodList(BaseModel):
    data: list[ShippingMethodOut]


class TaxLineOut(BaseModel):
    rate: Rate
    label: str = Field(examples=["VAT"])
    amount: Money


class Totals(BaseModel):
    subtotal: Money = Field(description="The lines' totals as priced (gross or net as the market's prices).")
    discount: Money
    shipping: Money
    tax: Money = Field(description="Included in the total where prices include tax, added to it elsewhere.")
    total: Money


class CartLineOut(BaseModel):
    sku: str
    product_id: str | None
    name: str | None
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money | None = Field(description="In the cart's market; null: not sold there (or unknown).")
    line_total: Money | None
    tax: Money | None = Field(description="This line's share of its tax line (docs/money.md).")
    tax_rate: Rate | None
    available: int = Field(description="Units that can be bought now; fewer than `quantity` means a problem.")
    purchasable: bool
    list_unit_price: Money | None = Field(
        default=None, description="The unit price before a sale (struck through); null: not on sale."
    )
    discount: Money | None = Field(
        default=None, description="The cart promotions' share of this line (docs/promotions.md)."
    )
    kind: str = Field(default="physical", description="`physical`, or `gift_card` (digital: no shipping).")


class CartOut(BaseModel):
    id: str | None = Field(description="The cart's id (`cart_…`); null for an account that never had one.")
    lines: list[CartLineOut]
    market: MarketOut
    country: str = Field(description="Where it is quoted for: the shipping address's country, or as chosen.")
    shipping_address: dict | None
    billing_address: dict | None
    shipping_method: ShippingMethodOut | None = Field(
        description="The method chosen, else the cheapest delivery that applies; null: none applies."
    )
    totals: Totals
    tax_lines: list[TaxLineOut]
    item_count: int
    purchasable: bool
    codes: list[CartCodeOut] = Field(
        default_factory=list, description="The codes entered (at most 5), in order, each applied or not."
    )
    discounts: list[AppliedPromotionOut] = Field(
        default_factory=list, description="The cart promotions applied; they sum to `totals.discount`."
    )


class GuestCartOut(BaseModel):
    cart_token: str = Field(
        description="Send it as `X-Cart-Token` on the cart routes, checkout and after signing in (the cart "
        "is then merged into the account's). Shown once: only its hash is kept."
    )
    cart_id: str


class AddressesIn(Input):
    shipping_address: PostalAddress
    billing_address: PostalAddress | None = Field(default=None, description="Omitted: the shipping address.")


class CountryIn(Input):
    country: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]


class ShippingMethodIn(Input):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


GiftCardCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    SINGLE_LINE,
    Field(description="A gift card's code: `XXXX-XXXX-XXXX-XXXX`, dashes and spaces optional."),
]


class CheckoutIn(Input):
    payment_method: (
        Annotated[
            str,
            StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,96}$"),
            Field(description="A token (pm_…) from the payment provider; card numbers are refused."),
        ]
        | None
    ) = Field(default=None, description="Required unless the gift cards pay the whole total.")
    gift_cards: Annotated[list[GiftCardCode], Field(max_length=5)] = Field(
        default_factory=list,
        description="Gift card codes, used in this order (each what it holds, up to what is left) before "
        "the card is charged the rest. A code that cannot pay: 422 `gift-card-invalid` naming it "
        '(`errors: {"gift_cards[i]": …}`), nothing charged.',
    )
    shipping_address: PostalAddress | None = Field(default=None, description="Omitted: the cart's.")
    billing_address: PostalAddress | None = Field(
        default=None, description="Omitted: the cart's, else the shipping address."
    )
    shipping_method: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = Field(
        default=None, description="Omitted: the cart's choice, else the cheapest delivery that applies."
    )
    email: EmailAddress | None = Field(
        default=None,
        description="Required without an account (a guest cart): the confirmation goes there. Ignored for "
        "a signed-in shopper, whose account's address is used.",
    )


class OrderLineOut(BaseModel):
    sku: str
    product_id: str
    name: str
    attributes: dict[str, str]
    image_url: str | None
    quantity: int
    unit_price: Money
    line_total: Money
    tax: Money
    tax_rate: Rate
    discount: Money
    list_unit_price: Money | None = Field(default=None, description="Before a sale; null: not on sale.")
    kind: str = Field(default="physical", description="`physical`, or `gift_card`.")


class OrderShippingMethod(ShippingMethodOut):
    tax: Money = Field(description="The tax in (or on) the shipping charge.")
    tax_rate: Rate


class CreditNoteOut(BaseModel):
    number: str = Field(description="e.g. `EU-CN-2026-00001`: gapless per market and year.")
    url: str = Field(description="The credit note as PDF (GET, with the same credentials as the order).")
    amount: Money = Field(description="What this refund paid back, tax included.")
    tax: Money = Field(description="The tax in it.")
    issued_at: datetime


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
    refunded_tax: Money = Field(
        description="The tax in what was refunded: the tax in proportion, cumulatively (docs/money.md)."
    )


class TenderOut(BaseModel):
    """How (part of) the order was paid: a gift card, or the card for the rest."""

    kind: Literal["gift_card", "card"]
    last4: str | None = Field(description="The gift card code's or the card's last four characters.")
    amount: Money


class OrderOut(BaseModel):
    id: str
    number: str | None = Field(description="The short human number, e.g. `M-10042`; null until placed.")
    state: str
    lines: list[OrderLineOut]
    market: MarketOut
    totals: Totals
    tax_lines: list[TaxLineOut]
    promotions: list[AppliedPromotionOut] = Field(
        default_factory=list, description="The cart promotions it was sold with, as they applied."
    )
    subtotal: Money
    shipping: Money
    total: Money
    shipping_address: dict
    billing_address: dict | None = Field(description="Null for orders placed before it was asked for.")
    shipping_method: OrderShippingMethod | None = Field(description="As sold; null for older orders.")
    payment: PaymentSummary
    tenders: list[TenderOut] = Field(
        default_factory=list, description="How it was paid: gift cards first (in the order used), then card."
    )
    carrier: str | None = Field(description="Once shipped: the carrier's name, e.g. `DHL`.")
    tracking_number: str | None = Field(description="Once shipped.")
    tracking_url: str | None = Field(description="The carrier's tracking page for the parcel, if it has one.")
    history: list[StateChangeOut]
    can_cancel: bool = Field(description="Whether the order can still be cancelled (POST …/cancel).")
    invoice_number: str | None = Field(description="e.g. `EU-2026-00001`; null until placed.")
    invoice_url: str | None = Field(description="The invoice as PDF (GET); null until placed.")
    credit_notes: list[CreditNoteOut] = Field(description="One per refund, oldest first.")
    created_at: datetime
    placed_at: datetime | None
    email: str | None = Field(default=None, description="A guest's order: the address it was confirmed to.")
    order_url: str | None = Field(
        default=None,
        description="A guest's order: the signed link of its page in the shop, to keep (no account needed). "
        "Its `t` is the `X-Order-Token` of GET /api/v1/orders/{id}.",
    )


class OrderSummary(BaseModel):
    id: str
    number: str | None = Field(description="The short human number, e.g. `M-10042`; null until placed.")
    state: str
    total: Money
    item_count: int
    image_url: str | None = Field(description="The first line's image (lines in SKU order), for a list.")
    created_at: datetime
    placed_at: datetime | None


# --- back office (/admin/v1, staff only) ---------------------------------------------------------

StaffTarget = Literal["confirmed", "processing", "shipped", "delivered", "cancelled", "returned"]
"""The states staff may move an order to; `refunded` follows from a refund, the rest from checkout."""

Carrier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=50, pattern=r"^[^<>]+$"),
    SINGLE_LINE,
    AfterValidator(carrier_name),  # a known carrier's code or name, in any case, becomes its name
]
TrackingNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{4,39}$")
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), TEXT]


class TransitionIn(Input):
    to: StaffTarget
    carrier: Carrier | None = Field(
        default=None,
        description="Required to ship: a carrier of mercato.contracts.carriers by code or name (`dhl`, "
        "`DHL`), stored as its name; another carrier is kept as given, without a tracking link.",
    )
    tracking_number: TrackingNumber | None = Field(
        default=None, description="Required to ship: 5-40 letters, digits or dashes."
    )
    reason: Reason | None = Field(
        default=None,
        description="Why, for the order's timeline. A cancellation's reason is in the customer's e-mail too.",
    )


class RefundLineIn(Input):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=9999)]


class StaffRefundIn(Input):
    amount: MoneyIn | None = Field(
        default=None,
        description="Omit (and `lines`) to refund everything not yet refunded; in the order's currency.",
    )
    lines: Annotated[list[RefundLineIn], Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="Instead of `amount`: the units returned. Each refunds what it paid — its share of the "
        "line's total after discounts, plus its tax where prices exclude tax (docs/money.md); a line's "
        "refunds add up to exactly what it paid.",
    )
    reason: Reason


class HistoryEntry(BaseModel):
    from_state: str | None
    state: str
    at: datetime
    reason: str | None
    actor: str | None = Field(description="customer | staff | system; empty for old entries.")
    staff_id: str | None


class StaffPaymentSummary(PaymentSummary):
    captured: Money = Field(description="The order's total once placed; nothing before.")
    refundable: Money = Field(description="Captured and not refunded yet, as far as orders knows.")


class StaffOrderOut(BaseModel):
    id: str
    number: str | None = Field(description="The short human number, e.g. `M-10042`; null until placed.")
    customer_id: str | None = Field(description="Null for a guest's order (see `email`).")
    email: str | None = Field(default=None, description="A guest's order: the guest's e-mail address.")
    state: str
    lines: list[OrderLineOut]
    market: MarketOut
    totals: Totals
    tax_lines: list[TaxLineOut]
    promotions: list[AppliedPromotionOut] = Field(
        default_factory=list, description="The cart promotions it was sold with, as they applied."
    )
    subtotal: Money
    shipping: Money
    total: Money
    shipping_address: dict
    billing_address: dict | None
    shipping_method: OrderShippingMethod | None
    payment: StaffPaymentSummary
    tenders: list[TenderOut] = Field(default_factory=list, description="As the shopper's order shows them.")
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    history: list[HistoryEntry] = Field(description="Every state the order entered: when, why, who asked.")
    failure: dict | None = Field(description="Why a checkout failed (state `failed`): the answer it gave.")
    invoice_number: str | None = Field(description="e.g. `EU-2026-00001`; null until placed.")
    invoice_url: str | None = Field(description="The invoice as PDF (GET, staff); null until placed.")
    credit_notes: list[CreditNoteOut] = Field(description="One per refund, oldest first.")
    created_at: datetime
    updated_at: datetime
    placed_at: datetime | None


class StaffOrderSummary(BaseModel):
    id: str
    number: str | None = Field(description="The short human number, e.g. `M-10042`; null until placed.")
    customer_id: str | None = Field(description="Null for a guest's order.")
    state: str
    total: Money
    refunded: Money
    item_count: int
    created_at: datetime
    placed_at: datetime | None


class SalesFigures(BaseModel):
    orders: int = Field(description="Orders placed.")
    gross: Money = Field(description="What they cost, shipping included.")
    refunded: Money = Field(description="What has been refunded of them so far.")
    revenue: Money = Field(description="gross minus refunded.")
    average_order_value: Money = Field(description="gross ÷ orders, rounded half up to the minor unit.")


class SalesDay(SalesFigures):
    date: date


class SalesReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    currency: str
    data: list[SalesDay] = Field(description="Every day of the range, oldest first, days without orders too.")
    totals: SalesFigures


class StateCount(BaseModel):
    state: str
    count: int


class OrdersByStateReport(BaseModel):
    data: list[StateCount]
    total: int


class TopProduct(BaseModel):
    product_id: str
    name: str
    units: int
    revenue: Money


class TopProductsReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    currency: str
    by: str
    data: list[TopProduct]
