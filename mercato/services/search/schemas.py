from __future__ import annotations

from pydantic import BaseModel, Field

from mercato.contracts.money import Money


class SearchHit(BaseModel):
    id: str
    slug: str
    name: str
    brand: str
    category_path: list[str] = Field(description="Category slugs from the root down.")
    price_range: dict[str, Money] = Field(
        description="`min` and `max`: what the variants cost now (a sale applied), in the page's currency."
    )
    compare_at_price: Money | None = Field(
        default=None,
        description="While a sale lowers the price: the variants' lowest list price (shown struck through).",
    )
    available: bool
    image_url: str | None


class CategoryFacet(BaseModel):
    path: list[str]
    count: int


class ValueFacet(BaseModel):
    value: str
    count: int


class PriceFacet(BaseModel):
    min: int | None = Field(description="Inclusive, minor units of the page's currency; null: unbounded.")
    max: int | None = Field(description="Exclusive, minor units of the page's currency; null: unbounded.")
    count: int


class SearchFacets(BaseModel):
    categories: list[CategoryFacet]
    attributes: dict[str, list[ValueFacet]]
    price: list[PriceFacet]


class SearchPage(BaseModel):
    data: list[SearchHit]
    currency: str = Field(description="ISO 4217: every price, price filter and price bucket is in it.")
    total: int
    facets: SearchFacets | None
    next_cursor: str | None


class Suggestion(BaseModel):
    text: str
    slug: str


class SuggestionList(BaseModel):
    data: list[Suggestion]


class RebuildOut(BaseModel):
    state: str = Field(description="idle, fetching, indexing, done or failed")
    fetched: int
    indexed: int
    error: str | None
