from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.inputs import SINGLE_LINE, Input
from mercato.contracts.money import Money

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,63}$"
COUNTRY_PATTERN = r"^[A-Za-z]{2}$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SKU_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]
Country = Annotated[str, StringConstraints(pattern=COUNTRY_PATTERN, to_upper=True)]


TaxClass = Literal["standard", "reduced", "zero"]

# --- public reads ------------------------------------------------------------------------------


class MarketOut(BaseModel):
    """Where the shop sells: countries sharing a currency; whether its prices include tax."""

    id: str = Field(examples=["eu"])
    name: str
    currency: str = Field(examples=["EUR"])
    countries: list[str] = Field(description="ISO 3166-1 alpha-2; the first is the market's usual one.")
    prices_include_tax: bool = Field(description="Prices are gross (VAT included) or net (tax added).")
    default: bool = Field(description="The market of a shopper who says no country.")


class MarketList(BaseModel):
    data: list[MarketOut]


class MarketRef(BaseModel):
    """The market an answer is priced for."""

    id: str
    currency: str
    prices_include_tax: bool


class CategoryNode(BaseModel):
    id: str
    slug: str
    name: str
    children: list[CategoryNode] = []


class CategoryTree(BaseModel):
    data: list[CategoryNode]


class CategoryRef(BaseModel):
    id: str
    slug: str
    name: str


class ImageOut(BaseModel):
    id: str
    url: str
    alt: str
    content_type: str


class PriceRange(BaseModel):
    min: Money
    max: Money


VariantKind = Literal["physical", "gift_card"]


class SaleOut(BaseModel):
    """The sale a product is on (docs/promotions.md, "Sales"): of its cheapest variant on sale."""

    name: str = Field(examples=["Summer sale"])
    ends_at: datetime | None = Field(description="When the sale prices end; null: until further notice.")


class ProductSummary(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    category: CategoryRef
    price_range: PriceRange = Field(description="In the market's currency: what the variants cost now.")
    compare_at_price_range: PriceRange | None = Field(
        default=None, description="While some variant is on sale: the variants' list prices; else null."
    )
    sale: SaleOut | None = None
    available: bool
    image: ImageOut | None


class ProductPage(BaseModel):
    """A page of the product list, priced for one market: products with no price in its currency are not
    listed."""

    data: list[ProductSummary]
    next_cursor: str | None
    market: MarketRef


class VariantOut(BaseModel):
    id: str
    sku: str
    attributes: dict[str, str]
    price: Money | None = Field(
        description="What it costs now (a sale applied), in the market's currency; null: not sold in this "
        "market."
    )
    compare_at_price: Money | None = Field(
        default=None, description="While on sale: the list price (shown struck through); else null."
    )
    kind: VariantKind = Field(default="physical", description="gift_card: a digital gift card, e-mailed.")
    available: int = Field(description="Units that can be bought now (on hand minus reserved).")


class ProductDetail(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    description: str
    category: CategoryRef
    breadcrumbs: list[CategoryRef]
    market: MarketRef
    for_sale: bool = Field(description="Sold in this market: some variant has a price in its currency.")
    price_range: PriceRange | None = Field(
        description="What the variants cost now, in the market's currency; null when not for sale."
    )
    compare_at_price_range: PriceRange | None = Field(
        default=None, description="While some variant is on sale: the variants' list prices; else null."
    )
    sale: SaleOut | None = None
    tax_class: TaxClass
    available: bool
    variants: list[VariantOut]
    images: list[ImageOut]
    attributes: dict[str, list[str]] = Field(description="Every value each attribute takes, for pickers.")
    properties: dict[str, str] = Field(
        default={},
        description="Product-level attributes (material, fit, care...), the same for every variant.",
    )
    updated_at: datetime


# --- internal: the orders service ----------------------------------------------------------------


class ReservationLineIn(Input):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=1000)]


class ReservationIn(Input):
    key: Annotated[str, StringConstraints(min_length=1, max_length=200), SINGLE_LINE] = Field(
        description="The caller's idempotency key (e.g. the order id): a repeat returns the same reservation."
    )
    lines: Annotated[list[ReservationLineIn], Field(min_length=1, max_length=100)]
    ttl_seconds: Annotated[int, Field(ge=1)] | None = None
    country: Country | None = Field(
        default=None, description="Where the order ships: lines are priced in its market. None: the default."
    )


class ReservationLineOut(BaseModel):
    sku: str
    quantity: int


class ReservationOut(BaseModel):
    id: str
    key: str
    status: str
    expires_at: datetime
    lines: list[ReservationLineOut]


class SaleRef(BaseModel):
    promotion_id: str
    name: str


class VariantInfo(BaseModel):
    """What the orders service needs to price and check a cart line."""

    sku: str
    variant_id: str
    product_id: str
    product_name: str
    product_slug: str
    attributes: dict[str, str]
    price: Money | None = Field(
        description="What a unit costs now (a sale applied), in the market's currency; null: not sold in "
        "that market."
    )
    list_price: Money | None = Field(
        default=None, description="While on sale: the price before it; else null."
    )
    sale: SaleRef | None = Field(default=None, description="The sale that sets `price`; null: none.")
    available: int
    image_url: str | None
    tax_class: TaxClass
    weight_grams: int
    category_ids: list[str] = Field(default=[], description="The product's category and every one above it.")
    kind: VariantKind = "physical"


class VariantInfos(BaseModel):
    """SKUs priced for one market."""

    market: MarketOut
    variants: list[VariantInfo]


class ReservedOut(ReservationOut):
    """A reservation as made (or replayed), with its variants as sold now — price, name, image — so the
    caller prices exactly what it holds in the same call (checkout: one call to catalog, not two)."""

    market: MarketOut
    items: list[VariantInfo]
