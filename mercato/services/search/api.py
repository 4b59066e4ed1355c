"""Public search routes; the gateway routes `/api/v1/search` straight here, not through catalog."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mercato.platform.errors import BadRequest, Conflict
from mercato.platform.etag import CACHEABLE, IfNoneMatch, cacheable_json
from mercato.platform.pagination import Paging, encode_cursor
from mercato.services.search import service
from mercato.services.search.index import Sort
from mercato.services.search.rebuild import rebuild_from_catalog
from mercato.services.search.schemas import RebuildOut, SearchPage, SuggestionList

public = APIRouter(prefix="/api/v1", tags=["search"])
internal = APIRouter(prefix="/internal", tags=["internal (operators; never routed by the gateway)"])

MAX_ATTRIBUTES, MAX_VALUES = 10, 20
SEARCH_QUERY = ("q", "category", "min_price", "max_price", "in_stock", "sort", "limit", "cursor")
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
    responses=CACHEABLE,
    summary="Relevance-ranked, typo-tolerant product search",
)
async def search(
    request: Request,
    paging: Paging,
    q: Annotated[str, Query(max_length=500, description="Words to look for; empty: browse.")] = "",
    category: Annotated[str | None, Query(max_length=200, description="A category slug or path.")] = None,
    min_price: Annotated[int | None, Query(ge=0, le=10**10, description="Minor units.")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=10**10, description="Minor units.")] = None,
    in_stock: Annotated[bool, Query(description="Only products that can be bought now.")] = False,
    sort: Sort = "relevance",
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Filters: `category` (with its sub-categories), `min_price`/`max_price`, `attr.<name>=<value>`
    (repeat for any of several values), `in_stock`. `facets` count categories, attribute values and
    price buckets for the query and filters. Cacheable for `results_max_age_seconds` (Cache-Control),
    then revalidated by its ETag: the index itself follows catalog's events a few tens of milliseconds
    behind."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadRequest("min_price is above max_price.", errors={"min_price": "must be ≤ max_price"})
    offset = int(paging.position.get("offset", 0))
    page = await service.search(
        request.app.state.index,
        offset=offset,
        limit=paging.limit,
        cursor_for=lambda after: encode_cursor({"offset": after}, paging.secret),
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


@public.get("/search/suggest", response_model=SuggestionList, summary="Product names for a search box")
async def suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> SuggestionList:
    return await service.suggest(request.app.state.index, q, limit)


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
    state.rebuild_task = asyncio.create_task(
        rebuild_from_catalog(state.index, state.settings.catalog_url, state.rebuild)
    )
    state.rebuild.state = "fetching"
    return RebuildOut.model_validate(asdict(state.rebuild))


@internal.get("/rebuild", response_model=RebuildOut, summary="Progress of the last rebuild")
async def rebuild_status(request: Request) -> RebuildOut:
    return RebuildOut.model_validate(asdict(request.app.state.rebuild))
