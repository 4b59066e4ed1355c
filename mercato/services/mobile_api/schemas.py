"""What the app receives: each screen's answer, trimmed to what a phone shows (see docs/mobile-api.md).
Request bodies are checked here as the services would check them, so the OpenAPI says what is accepted;
the service still has the last word (its problem comes back unchanged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.addresses import PostalAddress
from mercato.contracts.emails import EmailAddress
from mercato.contracts.inputs import Input
from mercato.contracts.money import Money

Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]
Quantity = Annotated[int, Field(ge=1, le=99)]


# --- browsing (public) ---------------------------------------------------------------------------


class ProductCard(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    image: str | None = Field(description="A path on the gateway (`/api/v1/images/…`), or null.")
    price: Money = Field(description="The lowest price of the product's variants.")
    price_varies: bool = Field(description="Some variants cost more than `price`.")
    available: bool


class CategoryOut(BaseModel):
    slug: str
    name: str
    children: list[CategoryOut] = []


class MarketOut(BaseModel):
    """The market the prices are in (the `country` asked for, or the default market)."""

    id: str
    currency: str
    prices_include_tax: bool = Field(description='true: VAT included (show "incl. VAT"); false: tax added.')


class HomeOut(BaseModel):
    categories: list[CategoryOut]
    featured: list[ProductCard]
    market: MarketOut


class FacetValue(BaseModel):
    value: str
    count: int


class ListingQuery(BaseModel):
    category: str | None
    q: str | None


class ListingOut(BaseModel):
    items: list[ProductCard]
    next_cursor: str | None
    facets: dict[str, list[FacetValue]] = Field(description="Attribute → values with counts (search only).")
    query: ListingQuery


class SuggestionsOut(BaseModel):
    suggestions: list[str]


class VariantOut(BaseModel):
    sku: str
    attributes: dict[str, str]
    price: Money | None = Field(description="null: not sold in the market.")
    available: int = Field(description="Units that can be bought now.")


class ProductOut(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    description: str
    images: list[str]
    price: Money | None = Field(description="The lowest price of the variants; null: not sold in the market.")
    price_varies: bool
    for_sale: bool = Field(description="Sold in the market (false: show it, but it cannot be bought there).")
    market: MarketOut
    available: bool
    options: dict[str, list[str]] = Field(description="Every value each attribute takes, in order.")
    variants: list[VariantOut]


# --- the shopper's own -------------------------------------------------------------------------------
# Every figure below is orders' quote as orders answered it (CONTRACT-15 totals and tax lines); the mobile
# API trims and renames, it never adds up.


class TotalsOut(BaseModel):
    subtotal: Money = Field(description="The lines as priced: gross where prices include tax, else net.")
    discount: Money
    shipping: Money
    tax: Money = Field(description="The sum of `tax_lines`; included in `total` or added to it by market.")
    total: Money


class TaxLineOut(BaseModel):
    rate: str = Field(description="A decimal percentage: `19`, `5.5`.", examples=["19"])
    label: str = Field(examples=["VAT 19 %"])
    amount: Money


class EstimateOut(BaseModel):
    min_days: int | None
    max_days: int | None


class ShippingMethodOut(BaseModel):
    id: str
    name: str
    kind: str = Field(description="standard | express | click_and_collect")
    price: Money = Field(description="What it costs for this cart and address (0 when free).")
    estimate: EstimateOut = Field(description="Working days until delivery.")


class PostalAddressOut(BaseModel):
    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    region: str | None = None
    country: str
    phone: str | None = None


class CartLineOut(BaseModel):
    sku: str
    product_id: str | None
    name: str | None
    attributes: dict[str, str]
    image: str | None
    quantity: int
    unit_price: Money | None
    line_total: Money | None
    tax: Money | None = Field(description="This line's share of its tax line.")
    tax_rate: str | None
    available: int
    purchasable: bool
    list_unit_price: Money | None = Field(
        default=None, description="The price before a sale (show it struck through); null: not on sale."
    )
    discount: Money | None = Field(default=None, description="The cart promotions' share of this line.")


class CodeOut(BaseModel):
    """A code on the cart: applied, or rejected with a sentence to show (the code stays on the cart until
    removed, and applies once its conditions hold)."""

    code: str
    applied: bool
    promotion: str | None = Field(description="The promotion's name.")
    reason: str | None = Field(
        description="When rejected: unknown-code, expired, not-yet-valid, inactive, minimum-not-met, "
        "no-eligible-items, wrong-market, first-order-only, not-combinable, usage-exhausted, already-used."
    )
    message: str | None = Field(description="When rejected: why, in words a shopper reads.")
    discount: Money = Field(description="What it takes off now (0 when rejected).")


class DiscountOut(BaseModel):
    """A promotion applied: by a code, or automatically (`code` null)."""

    promotion_id: str
    name: str
    code: str | None
    amount: Money


class TenderOut(BaseModel):
    """How the order was paid: a gift card's part, the card's."""

    kind: Literal["gift_card", "card"]
    last4: str | None
    amount: Money


class CartOut(BaseModel):
    lines: list[CartLineOut]
    market: MarketOut
    totals: TotalsOut
    tax_lines: list[TaxLineOut]
    shipping_method: ShippingMethodOut | None = Field(description="The one chosen at checkout, if any.")
    item_count: int
    purchasable: bool
    codes: list[CodeOut] = Field(default=[], description="The codes entered, each with its outcome.")
    discounts: list[DiscountOut] = Field(default=[], description="The promotions applied; `totals.discount`.")


class CartItemIn(Input):
    sku: Sku
    quantity: Quantity = 1


class CartItemPatch(Input):
    quantity: Quantity


class CartCodeIn(Input):
    code: Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,40}$"),
        Field(description="A promotion code as the shopper typed it (any case).", examples=["SUMMER10"]),
    ]


class AddressOut(PostalAddressOut):
    id: str


class PaymentOut(BaseModel):
    provider: Literal["stripe"]
    publishable_key: str
    api_base: str = Field(description="Where the app tokenises a card (POST {api_base}/v1/payment_methods).")
    wallets: list[str]


class CheckoutOut(BaseModel):
    """The checkout screen, and the answer of each of its steps: the cart quoted for where it goes, and
    the shipping methods that apply there."""

    cart: CartOut
    shipping_address: PostalAddressOut | None = Field(description="Where the cart is delivered, once chosen.")
    billing_address: PostalAddressOut | None = Field(description="Null or equal: the shipping address.")
    shipping_methods: list[ShippingMethodOut] = Field(
        description="The methods that apply to the shipping address and the cart (none before an address)."
    )
    addresses: list[AddressOut]
    default_address_id: str | None
    email: str | None = Field(description="The account's; a guest's once given at checkout.")
    payment: PaymentOut


ShippingMethodId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), Field(description="A shipping method's id.")
]
PaymentMethod = Annotated[
    str,
    StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,96}$"),
    Field(description="A token (pm_…) from the payment provider; card numbers are refused."),
]


class CheckoutAddressIn(Input):
    shipping_address: PostalAddress
    billing_address: PostalAddress | None = Field(default=None, description="Omitted: the shipping address.")


class ShippingMethodIn(Input):
    id: ShippingMethodId


class CheckoutIn(Input):
    """What is not in the body comes from the cart (its addresses and shipping method; no method chosen:
    the cheapest that applies)."""

    payment_method: PaymentMethod
    shipping_address: PostalAddress | None = None
    billing_address: PostalAddress | None = None
    shipping_method: ShippingMethodId | None = None
    email: EmailAddress | None = Field(
        default=None, description="A guest's (required without an account): where the confirmation goes."
    )


class PlacedOut(BaseModel):
    id: str
    number: str | None
    status: str
    placed_at: datetime | None
    market: MarketOut | None
    totals: TotalsOut
    tax_lines: list[TaxLineOut]
    shipping_method: ShippingMethodOut | None
    email: str | None = Field(description="A guest order's: where the confirmation went.")
    order_url: str | None = Field(description="A guest order's signed link: the order without an account.")


class OrderCard(BaseModel):
    id: str
    number: str | None
    status: str
    placed_at: datetime | None
    total: Money
    item_count: int
    image: str | None


class OrdersOut(BaseModel):
    items: list[OrderCard]
    next_cursor: str | None


class OrderLineOut(BaseModel):
    sku: str
    name: str
    attributes: dict[str, str]
    image: str | None
    quantity: int
    unit_price: Money
    line_total: Money
    tax: Money | None
    tax_rate: str | None


class TimelineEntry(BaseModel):
    status: str
    at: datetime


class TrackingOut(BaseModel):
    carrier: str
    number: str
    url: str | None


class CreditNoteOut(BaseModel):
    number: str
    url: str
    amount: Money


class OrderOut(BaseModel):
    id: str
    number: str | None
    status: str
    placed_at: datetime | None
    market: MarketOut | None = Field(description="Null for orders placed before markets existed.")
    totals: TotalsOut
    tax_lines: list[TaxLineOut]
    lines: list[OrderLineOut]
    shipping_address: PostalAddressOut
    billing_address: PostalAddressOut | None
    shipping_method: ShippingMethodOut | None
    timeline: list[TimelineEntry]
    tracking: TrackingOut | None
    can_cancel: bool
    invoice_url: str | None = Field(description="The invoice (PDF) on the gateway, once issued.")
    credit_notes: list[CreditNoteOut]
    promotions: list[DiscountOut] = Field(default=[], description="The promotions the order used.")
    tenders: list[TenderOut] = Field(default=[], description="How it was paid; empty before payment.")
