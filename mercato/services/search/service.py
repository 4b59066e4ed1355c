"""Use cases: turn index results into the public API's shapes."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from mercato.contracts.money import Money
from mercato.services.search.index import ProductIndex, SearchResults
from mercato.services.search.schemas import SearchFacets, SearchHit, SearchPage, Suggestion, SuggestionList


def _page(results: SearchResults, currency: str, next_cursor: str | None) -> SearchPage:
    hits = [
        SearchHit(
            id=hit.product_id,
            slug=hit.slug,
            name=hit.name,
            brand=hit.brand,
            category_path=list(hit.category_path),
            price_range={
                "min": Money(amount=hit.price, currency=hit.currency),
                "max": Money(amount=hit.price_max, currency=hit.currency),
            },
            compare_at_price=None
            if hit.compare_at is None
            else Money(amount=hit.compare_at, currency=hit.currency),
            available=hit.in_stock,
            image_url=hit.image_url,
        )
        for hit in results.hits
    ]
    facets = SearchFacets.model_validate(asdict(results.facets)) if results.facets else None
    return SearchPage(
        data=hits, currency=currency, total=results.total, facets=facets, next_cursor=next_cursor
    )


async def search(
    index: ProductIndex, *, currency: str, offset: int, limit: int, cursor_for: Any, **filters: Any
) -> SearchPage:
    results = await asyncio.to_thread(index.search, currency=currency, offset=offset, limit=limit, **filters)
    more = offset + len(results.hits) < results.total and results.hits
    return _page(results, currency, cursor_for(offset + len(results.hits)) if more else None)


async def suggest(index: ProductIndex, prefix: str, limit: int, *, currency: str) -> SuggestionList:
    suggestions = await asyncio.to_thread(index.suggest, prefix, limit, currency=currency)
    return SuggestionList(data=[Suggestion(text=s.text, slug=s.slug) for s in suggestions])
