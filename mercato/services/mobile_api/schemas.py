"""What the app receives: each screen's answer, trimmed to what a phone shows (see docs/mobile-api.md).
Request bodies are checked here as the services would check them, so the OpenAPI says what is accepted;
the service still has the last word (its problem comes back unchanged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.addresses import PostalAddress
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


class CartLineOut(BaseModel):
    sku: str
    product_id: str | None
    name: str | None
    attributes: dict[str, str]
    image: str | None
    quantity: int
    unit_price: Money | None
    line_total: Money | None
    available: int
    purchasable: bool


class CartOut(BaseModel):
    lines: list[CartLineOut]
    subtotal: Money
    shipping: Money
    total: Money
    item_count: int
    purchasable: bool


class CartItemIn(Input):
    sku: Sku
    quantity: Quantity = 1


class CartItemPatch(Input):
    quantity: Quantity


class AddressOut(BaseModel):
    id: str
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    phone: str | None


class PaymentOut(BaseModel):
    provider: Literal["stripe"]
    publishable_key: str
    api_base: str = Field(description="Where the app tokenises a card (POST {api_base}/v1/payment_methods).")
    wallets: list[str]


class CheckoutOut(BaseModel):
    cart: CartOut
    addresses: list[AddressOut]
    default_address_id: str | None
    email: str
    payment: PaymentOut


class CheckoutIn(Input):
    shipping_address: PostalAddress
    payment_method: Annotated[
        str,
        StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,96}$"),
        Field(description="A token (pm_…) from the payment provider; card numbers are refused."),
    ]


class PlacedOut(BaseModel):
    id: str
    number: str | None
    status: str
    total: Money
    placed_at: datetime | None


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
    line_total: Money


class TimelineEntry(BaseModel):
    status: str
    at: datetime


class TrackingOut(BaseModel):
    carrier: str
    number: str
    url: str | None


class OrderOut(BaseModel):
    id: str
    number: str | None
    status: str
    placed_at: datetime | None
    total: Money
    subtotal: Money
    shipping: Money
    lines: list[OrderLineOut]
    shipping_address: dict[str, Any]
    timeline: list[TimelineEntry]
    tracking: TrackingOut | None
    can_cancel: bool
