"""The back office's API models (`/admin/v1`): what merchandisers send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from mercato.contracts.inputs import SINGLE_LINE, TEXT
from mercato.contracts.money import Currency, Money
from mercato.platform.patch import Patch
from mercato.services.catalog.schemas import (
    SLUG_PATTERN,
    CategoryRef,
    Input,
    PriceRange,
    Sku,
    Slug,
    TaxClass,
    VariantKind,
)

ProductStatus = Literal["active", "draft", "archived"]
AdjustmentReason = Literal["received", "damaged", "lost", "correction", "returned", "count"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE]
Brand = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), SINGLE_LINE]
Description = Annotated[str, StringConstraints(max_length=10_000), TEXT]
CategorySlug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=120)]
CategoryKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    SINGLE_LINE,
    Field(description="Id or slug."),
]
ImageName = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{32}\.(jpg|png|webp|svg)$"),
    Field(description="The `name` POST /admin/v1/images answered with."),
]
AttributeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), SINGLE_LINE
]
AttributeValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), SINGLE_LINE
]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=30)]
Position = Annotated[int, Field(ge=0, le=100_000)]
MAX_PRICE = 100_000_000  # minor units: a million euros is more than any product here costs


MAX_WEIGHT = 1_000_000  # grams: a tonne
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT, description="Grams, for shipping rates by weight.")]


class PriceIn(Input):
    """Money, as everywhere in the API: integer minor units and an ISO 4217 currency."""

    amount: Annotated[int, Field(ge=0, le=MAX_PRICE, examples=[1999])]
    currency: Currency


Prices = Annotated[
    list[PriceIn],
    Field(
        max_length=20,
        description="The price list: at most one price per currency. A variant with no price in a market's "
        "currency is not sold in that market.",
        examples=[[{"amount": 1999, "currency": "EUR"}, {"amount": 1699, "currency": "GBP"}]],
    ),
]


def price_list(*prices: PriceIn) -> dict[str, int]:
    """currency → amount; a currency given twice is refused."""
    listed: dict[str, int] = {}
    for price in prices:
        if price.currency in listed:
            raise ValueError(f"{price.currency} is priced twice; give one price per currency")
        listed[price.currency] = price.amount
    return dict(sorted(listed.items()))


# --- products -----------------------------------------------------------------------------------


class ImageRef(Input):
    name: ImageName
    alt: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), SINGLE_LINE] = Field(
        default="", description="Alternative text; the product's name when left empty."
    )


Images = Annotated[list[ImageRef], Field(max_length=20, description="In display order; the first leads.")]


class VariantIn(Input):
    sku: Sku
    attributes: Attributes = Field(default={}, examples=[{"size": "M", "colour": "Black"}])
    price: PriceIn | None = Field(default=None, description="One price; `prices` gives several.")
    prices: Prices = []
    weight_grams: Weight = 0
    kind: VariantKind = Field(
        default="physical",
        description="gift_card: a digital gift card (e-mailed; no shipping; never on sale) — give the "
        "product tax class zero.",
    )
    stock: Annotated[int, Field(ge=0, le=10_000_000, description="Units on hand to start with.")] = 0
    active: bool = True

    @model_validator(mode="after")
    def _priced(self) -> VariantIn:
        if not self.price_list:
            raise ValueError("a variant needs a price: give `price` or `prices`")
        return self

    @property
    def price_list(self) -> dict[str, int]:
        return price_list(*([self.price] if self.price else []), *self.prices)


class ProductIn(Input):
    slug: Slug
    name: Name
    brand: Brand
    description: Description = ""
    category: CategoryKey
    status: Literal["active", "draft"] = Field(
        default="active", description="A draft is kept out of the shop and search until it is made active."
    )
    tax_class: TaxClass = Field(default="standard", description="Which of a country's tax rates applies.")
    attributes: Attributes = Field(default={}, examples=[{"material": "Organic cotton"}])
    images: Images = []
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=500)]


class ProductPatch(Patch):
    slug: Slug | None = None
    name: Name | None = None
    brand: Brand | None = None
    description: Description | None = None
    category: CategoryKey | None = None
    status: ProductStatus | None = None
    tax_class: TaxClass | None = None
    attributes: Attributes | None = Field(default=None, description="Replaces all product-level attributes.")
    images: Images | None = Field(default=None, description="Replaces the product's images, in this order.")


class VariantPatch(Patch):
    price: PriceIn | None = Field(default=None, description="Sets the price in its currency; others stay.")
    prices: Prices | None = Field(default=None, description="Replaces the whole price list.")
    weight_grams: Weight | None = None
    kind: VariantKind | None = None
    attributes: Attributes | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _one_price_list(self) -> VariantPatch:
        if self.prices is not None:
            price_list(*self.prices)
        return self


class AdminImage(BaseModel):
    name: str
    url: str
    alt: str
    content_type: str


class AdminVariant(BaseModel):
    id: str
    sku: str
    attributes: dict[str, str]
    price: Money | None = Field(description="The price in the default market's currency; null if none.")
    prices: list[Money] = Field(description="The price list, by currency.")
    weight_grams: int
    kind: VariantKind
    active: bool


class AdminProduct(BaseModel):
    """A product as merchandisers edit it, whatever its status. Its ETag covers exactly these fields;
    stock is not among them (it moves with every sale): see `/admin/v1/inventory/{sku}`."""

    id: str
    slug: str
    name: str
    brand: str
    description: str
    status: ProductStatus
    tax_class: TaxClass
    category: CategoryRef
    attributes: dict[str, str]
    images: list[AdminImage]
    variants: list[AdminVariant]
    created_at: datetime
    updated_at: datetime


class AdminProductSummary(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    status: ProductStatus
    category: CategoryRef
    variants: int = Field(description="How many variants, active or not.")
    price_range: PriceRange | None = Field(
        description="In the default market's currency, over the active variants priced in it; null if none."
    )
    available: int = Field(description="Units available now, over the active variants.")
    image: AdminImage | None
    updated_at: datetime


# --- images ---------------------------------------------------------------------------------------


class ImageUploaded(BaseModel):
    name: str = Field(description="Attach it to a product with this name (PATCH `images`, or the CSV).")
    url: str
    content_type: str
    size: int


# --- categories ------------------------------------------------------------------------------------


class CategoryIn(Input):
    slug: CategorySlug
    name: Name
    parent: CategoryKey | None = Field(default=None, description="Id or slug; none for a top-level category.")
    position: Position = Field(default=0, description="Order among its siblings.")


class CategoryPatch(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"parent"})

    slug: CategorySlug | None = None
    name: Name | None = None
    parent: CategoryKey | None = Field(
        default=None, description="Id or slug; null moves it to the top level."
    )
    position: Position | None = None


class AdminCategory(BaseModel):
    id: str
    slug: str
    name: str
    parent_id: str | None
    position: int
    depth: int = Field(description="0 for a top-level category.")
    products: int = Field(description="Products filed directly under it, whatever their status.")


class CategoryList(BaseModel):
    """Every category, depth first in display order: small enough to send whole, like the public tree."""

    data: list[AdminCategory]


# --- inventory --------------------------------------------------------------------------------------


class AdjustmentIn(Input):
    delta: Annotated[int, Field(ge=-10_000_000, le=10_000_000, description="Units added (+) or removed (-).")]
    reason: AdjustmentReason = Field(
        description="received and returned add units, damaged and lost remove them; "
        "correction and count go either way."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), TEXT] | None = Field(
        default=None, examples=["Delivery note 4711"]
    )


class StockMovementOut(BaseModel):
    id: str
    delta: int
    reason: str
    note: str | None
    staff_id: str | None = Field(description="Who, when a person did it (null: the system, e.g. a restock).")
    created_at: datetime


class StockLevelOut(BaseModel):
    sku: str
    product_id: str
    on_hand: int
    reserved: int = Field(description="Held for orders being paid for.")
    available: int


class AdjustmentOut(StockLevelOut):
    adjustment: StockMovementOut


class InventoryOut(StockLevelOut):
    history: list[StockMovementOut] = Field(
        description="Changes of stock on hand other than sales, newest first."
    )
    next_cursor: str | None = Field(description="The next page of `history`.")


# --- CSV imports --------------------------------------------------------------------------------------


class RowError(BaseModel):
    row: int = Field(description="As a spreadsheet numbers it: the header is row 1.")
    column: str | None
    message: str


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int


class ProductImportOut(BaseModel):
    import_id: str
    status: Literal["applied", "rejected"]
    file_name: str
    file_sha256: str = Field(description="The same file uploaded twice has the same hash.")
    size_bytes: int
    staff_id: str
    created_at: datetime
    rows: int
    created: int = Field(description="Products created.")
    updated: int = Field(description="Products changed (their fields, variants or stock).")
    unchanged: int = Field(description="Products the file left exactly as they were.")
    variants: ImportCounts
    error_count: int


class ProductImportDetail(ProductImportOut):
    errors: list[RowError] = Field(description="A rejected import's report (at most the first 1000).")
