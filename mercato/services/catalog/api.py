"""Catalog HTTP routes: public browsing and internal reservations for orders (the back office's are in
`merchandising/api.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from mercato.contracts.events import ProductCreated
from mercato.platform.app import ReadOne, ReadSession, UnitOfWork
from mercato.platform.errors import BadRequest, NotFound
from mercato.platform.etag import CACHEABLE, IfNoneMatch, cacheable_bytes, cacheable_json
from mercato.platform.pagination import Page, Paging
from mercato.platform.storage import EXTENSIONS
from mercato.services.catalog import browsing, documents, service
from mercato.services.catalog.markets import CountryMarket, Markets, market_out, market_ref, markets_out
from mercato.services.catalog.schemas import (
    CategoryTree,
    MarketList,
    MarketOut,
    ProductDetail,
    ProductPage,
    ReservationIn,
    ReservationOut,
    ReservedOut,
    VariantInfos,
)
from mercato.services.catalog.settings import CatalogSettings

public = APIRouter(prefix="/api/v1", tags=["catalog"])
internal = APIRouter(prefix="/internal", tags=["internal (service to service; never routed by the gateway)"])


def _settings(request: Request) -> CatalogSettings:
    return request.app.state.settings


def _markets(request: Request) -> Markets:
    return request.app.state.markets


CATEGORIES_MAX_AGE = 60  # seconds; a new or renamed category may take this long to show
MARKETS_MAX_AGE = 300  # seconds; markets change only with a release
LIST_QUERY = ("category", "limit", "cursor", "country")
PRODUCT_QUERY = ("country",)
NOT_SOLD_HERE = {422: {"description": "No market sells to `country`"}}


@public.get("/markets", response_model=MarketList, responses=CACHEABLE)
async def markets(request: Request, if_none_match: IfNoneMatch = None) -> Response:
    """Where the shop sells: each market's countries, currency, and whether its prices include tax."""
    body = MarketList(data=list(markets_out(_markets(request))))
    return cacheable_json(request, body, if_none_match=if_none_match, max_age=MARKETS_MAX_AGE)


@public.get("/categories", response_model=CategoryTree, responses=CACHEABLE)
async def categories(request: Request, session: ReadSession, if_none_match: IfNoneMatch = None) -> Response:
    """The category tree, roots first, each with its children."""
    tree = await browsing.category_tree(session)
    return cacheable_json(request, tree, if_none_match=if_none_match, max_age=CATEGORIES_MAX_AGE)


@public.get(
    "/products",
    response_model=ProductPage,
    responses={**CACHEABLE, 404: {"description": "There is no such category"}, **NOT_SOLD_HERE},
)
async def products(
    request: Request,
    connection: ReadOne,
    paging: Paging,
    market: CountryMarket,
    category: Annotated[
        str | None, Query(max_length=200, description="Category id or slug; includes sub-categories.")
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Products sold in the `country`'s market with their price range in its currency and availability,
    in a stable order. Cacheable for `browse_max_age_seconds` (Cache-Control), then revalidated by its
    ETag."""
    if paging.position and paging.position.get("category") != category:
        raise BadRequest("This cursor is for another listing.", errors={"cursor": "is for another category"})
    entries = await browsing.product_list(
        connection, category=category, after=paging.position.get("after"), limit=paging.fetch, market=market
    )
    next_cursor = paging.next_cursor(entries, lambda entry: {"after": entry[0], "category": category})
    body = documents.page_body(
        (entry for _, entry in entries[: paging.limit]), next_cursor, market_ref(market)
    )
    max_age = _settings(request).browse_max_age_seconds
    return cacheable_bytes(request, body, if_none_match=if_none_match, max_age=max_age, query=LIST_QUERY)


@public.get("/products/{id_or_slug}", response_model=ProductDetail, responses={**CACHEABLE, **NOT_SOLD_HERE})
async def product(
    request: Request,
    connection: ReadOne,
    id_or_slug: Annotated[str, Path(max_length=200)],
    market: CountryMarket,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A product with its variants (SKU, attributes, price in the `country`'s market currency, units
    available) and images. A product with no price in that currency answers `for_sale: false` and null
    prices. Cacheable for `browse_max_age_seconds` (Cache-Control), then revalidated by its ETag."""
    body = await browsing.product_page(connection, id_or_slug, market)
    max_age = _settings(request).browse_max_age_seconds
    return cacheable_bytes(request, body, if_none_match=if_none_match, max_age=max_age, query=PRODUCT_QUERY)


@public.get("/images/{key}", response_class=Response, responses={200: {"content": {"image/*": {}}}})
async def image(
    request: Request, key: Annotated[str, Path(pattern=r"^[0-9a-f]{32}\.[a-z]{3,4}$")]
) -> Response:
    """An image by its content-addressed key: immutable, cacheable for a year."""
    found = await request.app.state.images.get(key) if key.rsplit(".", 1)[1] in EXTENSIONS.values() else None
    if found is None:
        raise NotFound("There is no such image.")
    data, content_type = found
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{key}"'}
    if content_type == "image/svg+xml":
        headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"  # no scripts in SVGs
        )
    return Response(data, media_type=content_type, headers=headers)


# --- internal -----------------------------------------------------------------------------------


@internal.get("/product-snapshots", response_model=Page[ProductCreated])
async def product_snapshots(request: Request, session: ReadSession, paging: Paging) -> Page[ProductCreated]:
    """Every active product as its events' snapshot, page by page: for consumers rebuilding their copy."""
    after = paging.position.get("after")
    snapshots = await service.product_snapshots(
        session, after=after, limit=paging.fetch, image_base_url=_settings(request).image_base_url
    )
    return paging.page(snapshots, lambda snapshot: {"after": snapshot.product_id})


@internal.get("/markets", response_model=list[MarketOut])
async def internal_markets(request: Request) -> list[MarketOut]:
    """Every market (as public `GET /api/v1/markets`), for services resolving a country."""
    return list(markets_out(_markets(request)))


@internal.get("/variants", response_model=VariantInfos, responses=NOT_SOLD_HERE)
async def variants(
    request: Request,
    session: ReadSession,
    sku: Annotated[list[str], Query(min_length=1, max_length=100)],
    market: CountryMarket,
) -> VariantInfos:
    """Price (in the `country`'s market; null: not sold there), tax class, weight and availability of
    SKUs, for pricing a cart. Unknown SKUs are simply absent."""
    found = await service.variant_infos(
        session, sku, market=market, image_base_url=_settings(request).image_base_url
    )
    return VariantInfos(market=market_out(market), variants=found)


@internal.post(
    "/reservations",
    status_code=201,
    response_model=ReservedOut,
    responses={
        200: {"description": "Replay of an existing reservation with the same key"},
        409: {
            "description": "Not enough stock, no longer sold, or not sold in the market "
            "(`not-sold-in-market`); `unavailable` lists the SKUs, each with its `reason`"
        },
        **NOT_SOLD_HERE,
    },
)
async def reserve(
    body: ReservationIn, request: Request, session: UnitOfWork, response: Response
) -> ReservedOut:
    """Hold stock for all lines or none, for `ttl_seconds`; it returns to stock unless committed. The
    answer prices the reserved variants (`items`) in the market of `country`."""
    settings = _settings(request)
    reservation, created = await service.reserve(
        session,
        body,
        market=_markets(request).for_country(body.country),
        default_ttl=settings.reservation_ttl_seconds,
        max_ttl=settings.reservation_max_ttl_seconds,
        image_base_url=settings.image_base_url,
    )
    response.status_code = 201 if created else 200
    return reservation


@internal.get("/reservations/{reservation_id}", response_model=ReservationOut)
async def get_reservation(reservation_id: str, session: ReadSession) -> ReservationOut:
    """A reservation by its id or by the key it was made with (e.g. the order id); likewise below."""
    return await service.get_reservation(session, reservation_id)


@internal.post("/reservations/{reservation_id}/commit", response_model=ReservationOut)
async def commit(reservation_id: str, session: UnitOfWork) -> ReservationOut:
    """The order is paid: the units leave stock for good. Repeating it is harmless."""
    return await service.commit_reservation(session, reservation_id)


@internal.post("/reservations/{reservation_id}/release", response_model=ReservationOut)
async def release(reservation_id: str, session: UnitOfWork) -> ReservationOut:
    """The order failed: the units return to stock. Repeating it is harmless."""
    return await service.release_reservation(session, reservation_id)
