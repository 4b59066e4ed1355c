"""Public search routes; the gateway routes `/api/v1/search` straight here, not through catalog."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mercato.platform.errors import BadRequest, Conflict
from mercato.platform.etag import CACHEABLE, IfNoneMatch, cacheable_json
from mercato.platform.pagination import Paging, encode_cursor
from mercato.services.search import service
from mercato.services.search.index import Sort
from mercato.services.search.rebuild import start_rebuild as rebuild_in_background
from mercato.services.search.schemas import RebuildOut, SearchPage, SuggestionList

public = APIRouter(prefix="/api/v1", tags=["search"])
internal = APIRouter(prefix="/internal", tags=["internal (operators; never routed by the gateway)"])

MAX_ATTRIBUTES, MAX_VALUES = 10, 20
Country = Annotated[
    str | None,
    Query(pattern="^[A-Za-z]{2}$", description="ISO 3166 alpha-2: search in the currency of its market."),
]
Currency = Annotated[
    str | None,
    Query(pattern="^[A-Za-z]{3}$", description="ISO 4217: search in this currency (not with country)."),
]
IN_CURRENCY: dict[int | str, dict] = {
    400: {"description": "Both a country and a currency (problem+json)"},
    422: {"description": "A country in no market, or a malformed parameter (problem+json)"},
    503: {"description": "A country was given before catalog's markets were ever known; retry later"},
}
SEARCH_QUERY = (
    "q", "country", "currency", "category", "min_price", "max_price", "in_stock", "sort", "limit", "cursor"
)  # fmt: skip
ATTRIBUTE_PREFIX = "attr."


def _attributes(request: Request) -> dict[str, list[str]]:
    """`attr.size=M&attr.size=L&attr.colour=Black` → {"size": ["M", "L"], "colour": ["Black"]}."""
    wanted: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith(ATTRIBUTE_PREFIX):
            name = key[len(ATTRIBUTE_PREFIX) :]
            if not name or len(name) > 40 or len(value) > 80:
                raise BadRequest("Malformed attribute filter.", errors={key: "attr.<name>=<value>, short"})
            wanted.setdefault(name, []).append(value)
    if len(wanted) > MAX_ATTRIBUTES or any(len(values) > MAX_VALUES for values in wanted.values()):
        raise BadRequest(f"At most {MAX_ATTRIBUTES} attributes with {MAX_VALUES} values each.")
    return wanted


@public.get(
    "/search",
    response_model=SearchPage,
    responses={**CACHEABLE, **IN_CURRENCY},
    summary="Relevance-ranked, typo-tolerant product search",
)
async def search(
    request: Request,
    paging: Paging,
    q: Annotated[str, Query(max_length=500, description="Words to look for; empty: browse.")] = "",
    country: Country = None,
    currency: Currency = None,
    category: Annotated[str | None, Query(max_length=200, description="A category slug or path.")] = None,
    min_price: Annotated[
        int | None, Query(ge=0, le=10**10, description="Minor units of the currency.")
    ] = None,
    max_price: Annotated[
        int | None, Query(ge=0, le=10**10, description="Minor units of the currency.")
    ] = None,
    in_stock: Annotated[bool, Query(description="Only products that can be bought now.")] = False,
    sort: Sort = "relevance",
    if_none_match: IfNoneMatch = None,
) -> Response:
    """In one currency: `currency`, or the currency of `country`'s market (422 for a country in no
    market), or the default market's. Prices, `min_price`/`max_price`, the price buckets and sorting by
    price are in it, and only products with a price in it are found (they are not sold elsewhere).
    Filters: `category` (with its sub-categories), `min_price`/`max_price`, `attr.<name>=<value>`
    (repeat for any of several values), `in_stock`. `facets` count categories, attribute values and
    price buckets for the query and filters. Cacheable for `results_max_age_seconds` (Cache-Control),
    then revalidated by its ETag: the index itself follows catalog's events a few tens of milliseconds
    behind."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadRequest("min_price is above max_price.", errors={"min_price": "must be ≤ max_price"})
    offset = int(paging.position.get("offset", 0))
    in_currency = request.app.state.markets.currency(country=country, currency=currency)
    page = await service.search(
        request.app.state.index,
        offset=offset,
        limit=paging.limit,
        cursor_for=lambda after: encode_cursor({"offset": after}, paging.secret),
        currency=in_currency,
        query=q,
        category=category,
        price_min=min_price,
        price_max=max_price,
        attributes=_attributes(request),
        in_stock=in_stock,
        sort=sort,
    )
    max_age = request.app.state.settings.results_max_age_seconds
    return cacheable_json(
        request,
        page,
        if_none_match=if_none_match,
        max_age=max_age,
        query=SEARCH_QUERY,
        query_prefixes=(ATTRIBUTE_PREFIX,),
    )


@public.get(
    "/search/suggest",
    response_model=SuggestionList,
    responses=IN_CURRENCY,
    summary="Product names for a search box",
)
async def suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
    country: Country = None,
    currency: Currency = None,
) -> SuggestionList:
    """Names of products sold in the currency (as for `/search`) completing `q`."""
    in_currency = request.app.state.markets.currency(country=country, currency=currency)
    return await service.suggest(request.app.state.index, q, limit, currency=in_currency)


@internal.post(
    "/rebuild",
    status_code=202,
    response_model=RebuildOut,
    summary="Rebuild the index from catalog",
    responses={409: {"description": "A rebuild is already running"}},
)
async def start_rebuild(request: Request) -> RebuildOut:
    """Starts a rebuild in the background (queries keep answering meanwhile); poll GET for progress."""
    state = request.app.state
    if state.rebuild.state in ("fetching", "indexing"):
        raise Conflict("A rebuild is already running.", slug="rebuild-running")
    rebuild_in_background(state)
    return RebuildOut.model_validate(asdict(state.rebuild))


@internal.get("/rebuild", response_model=RebuildOut, summary="Progress of the last rebuild")
async def rebuild_status(request: Request) -> RebuildOut:
    return RebuildOut.model_validate(asdict(request.app.state.rebuild))
