from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from mercato.contracts.inputs import SINGLE_LINE, Input
from mercato.contracts.money import Money

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,63}$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SKU_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]


# --- public reads ------------------------------------------------------------------------------


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


class ProductSummary(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    category: CategoryRef
    price_range: PriceRange
    available: bool
    image: ImageOut | None


class VariantOut(BaseModel):
    id: str
    sku: str
    attributes: dict[str, str]
    price: Money
    available: int = Field(description="Units that can be bought now (on hand minus reserved).")


class ProductDetail(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    description: str
    category: CategoryRef
    breadcrumbs: list[CategoryRef]
    price_range: PriceRange
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


class ReservationLineOut(BaseModel):
    sku: str
    quantity: int


class ReservationOut(BaseModel):
    id: str
    key: str
    status: str
    expires_at: datetime
    lines: list[ReservationLineOut]


class VariantInfo(BaseModel):
    """What the orders service needs to price and check a cart line."""

    sku: str
    variant_id: str
    product_id: str
    product_name: str
    product_slug: str
    attributes: dict[str, str]
    price: Money
    available: int
    image_url: str | None


class ReservedOut(ReservationOut):
    """A reservation as made (or replayed), with its variants as sold now — price, name, image — so the
    caller prices exactly what it holds in the same call (checkout: one call to catalog, not two)."""

    items: list[VariantInfo]
