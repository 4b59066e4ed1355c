"""The mobile API's routes, `/mobile/v1`: one call per screen of the app. Thin: each route reads its
parameters, asks its screen module, and answers with an ETag (reads) or the new state (writes).

Public reads (home, listings, suggestions, product) are `public` for `public_max_age_seconds`, so the
gateway's cache keeps them as it keeps catalog's; the shopper's reads are `private, no-cache` (the
phone keeps them and revalidates by ETag: a 304 costs it no body). ETags are weak: the gateway compresses
these answers, and a weak ETag is one it keeps as it is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from mercato.platform.auth import OptionalShopper, Shopper, verified_shopper
from mercato.platform.errors import Unauthorized
from mercato.platform.etag import CACHEABLE, IfNoneMatch, cacheable_bytes
from mercato.platform.idempotency import IdempotencyKey, RequiredIdempotencyKey
from mercato.services.mobile_api.clients import Buyer, Services
from mercato.services.mobile_api.schemas import (
    CartCodeIn,
    CartItemIn,
    CartItemPatch,
    CartOut,
    CheckoutAddressIn,
    CheckoutIn,
    CheckoutOut,
    HomeOut,
    ListingOut,
    OrderOut,
    OrdersOut,
    PlacedOut,
    ProductOut,
    ShippingMethodIn,
    SuggestionsOut,
)
from mercato.services.mobile_api.screens import browse, checkout, orders, shopping
from mercato.services.mobile_api.settings import MobileApiSettings

router = APIRouter(prefix="/mobile/v1")

# The gateway checked the token; its subject (and `iat`) arrive as headers, passed on to the services,
# which check the session themselves.
CurrentShopper = Annotated[Shopper, Depends(verified_shopper)]
# The cart and checkout screens also serve a guest: the app's cart token (POST /api/v1/carts), passed on
# to orders, which owns the cart it names; a shopper who just signed in sends both (orders merges).
_cart_token = APIKeyHeader(
    name="X-Cart-Token",
    scheme_name="CartToken",
    description="The token of a guest cart, from POST /api/v1/carts.",
    auto_error=False,
)


async def _buyer(shopper: OptionalShopper, cart_token: Annotated[str | None, Security(_cart_token)]) -> Buyer:
    if shopper is None and cart_token is None:
        raise Unauthorized("Sign in, or send the X-Cart-Token of a guest cart (POST /api/v1/carts).")
    return Buyer(shopper=shopper, cart_token=cart_token)


CurrentBuyer = Annotated[Buyer, Depends(_buyer)]
SkuPath = Annotated[str, Path(max_length=64)]
CodePath = Annotated[str, Path(max_length=40)]
IdPath = Annotated[str, Path(max_length=200)]

LISTING_QUERY = ("category", "q", "cursor", "limit", "sort", "min_price", "max_price", "in_stock", "country")
Country = Annotated[
    str | None,
    Query(
        pattern="^[A-Za-z]{2}$",
        description="ISO 3166 alpha-2: prices in its market's currency, only what is sold there "
        "(422 for a country in no market). None: the default market.",
    ),
]
FILTER_ATTRIBUTES = ("colour", "size")  # as the web shop's filters
FAILURES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed, e.g. a cursor that is not one the service gave (problem+json)."},
    503: {"description": "A service behind this screen did not answer; retry later (problem+json)."},
}
SHOPPER_FAILURES: dict[int | str, dict[str, Any]] = {
    **FAILURES,
    401: {"description": "No valid access token, or its session has ended (problem+json)."},
}


def _services(request: Request) -> Services:
    return request.app.state.services


def _settings(request: Request) -> MobileApiSettings:
    return request.app.state.settings


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[MobileApiSettings, Depends(_settings)]


def _public(
    request: Request, answer: BaseModel, if_none_match: str | None, query: tuple[str, ...] = ()
) -> Response:
    max_age = _settings(request).public_max_age_seconds
    body = answer.model_dump_json().encode()
    return cacheable_bytes(
        request, body, if_none_match=if_none_match, max_age=max_age, query=query, weak=True
    )


def _personal(request: Request, answer: BaseModel, if_none_match: str | None) -> Response:
    body = answer.model_dump_json().encode()
    return cacheable_bytes(request, body, if_none_match=if_none_match, max_age=0, weak=True, personal=True)


# --- browsing (public) -------------------------------------------------------------------------


@router.get("/home", response_model=HomeOut, responses={**CACHEABLE, **FAILURES}, tags=["browse"])
async def home(
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    country: Country = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The home screen: the category tree and the featured products, in the market of `country`."""
    answer = await browse.home(services, settings.featured_count, country)
    return _public(request, answer, if_none_match, query=("country",))


@router.get(
    "/products",
    response_model=ListingOut,
    responses={**CACHEABLE, **FAILURES, 404: {"description": "There is no such category"}},
    tags=["browse"],
)
async def products(
    request: Request,
    services: ServicesDep,
    category: Annotated[str | None, Query(max_length=200, description="A category slug.")] = None,
    q: Annotated[str, Query(max_length=200, description="Words to look for (typo-tolerant).")] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    colour: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 - FastAPI copies defaults
    size: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    sort: Annotated[str | None, Query(pattern=r"^(relevance|price_asc|price_desc|newest)$")] = None,
    min_price: Annotated[int | None, Query(ge=0, le=10**10, description="Minor units.")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=10**10, description="Minor units.")] = None,
    in_stock: bool = False,
    country: Country = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A listing screen: a category (catalog's listing), or with `q` or any filter search's results,
    typo-tolerant and with facets, as the web shop's search; priced in the market of `country`, with
    only the products sold there."""
    wanted = browse.Listing(
        category=category,
        q=q.strip(),
        cursor=cursor,
        limit=limit,
        attributes={"colour": colour, "size": size},
        sort=sort,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        country=country,
    )
    answer = await browse.listing(services, wanted)
    return _public(request, answer, if_none_match, query=LISTING_QUERY + FILTER_ATTRIBUTES)


@router.get(
    "/suggestions", response_model=SuggestionsOut, responses={**CACHEABLE, **FAILURES}, tags=["browse"]
)
async def suggestions(
    request: Request,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
    country: Country = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Product names for the search box, as the shopper types (of products sold in `country`'s market)."""
    answer = await browse.suggestions(services, q, country)
    return _public(request, answer, if_none_match, query=("q", "country"))


@router.get(
    "/products/{id_or_slug}",
    response_model=ProductOut,
    responses={**CACHEABLE, **FAILURES, 404: {"description": "There is no such product"}},
    tags=["browse"],
)
async def product(
    request: Request,
    services: ServicesDep,
    id_or_slug: IdPath,
    country: Country = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A product screen: images, price, availability, the option pickers and every variant (SKU), priced
    in the market of `country` (`for_sale: false` and null prices: not sold there)."""
    answer = await browse.product(services, id_or_slug, country)
    return _public(request, answer, if_none_match, query=("country",))


# --- the cart (the shopper's) ------------------------------------------------------------------------


@router.get("/cart", response_model=CartOut, responses={**CACHEABLE, **SHOPPER_FAILURES}, tags=["cart"])
async def cart(
    request: Request, services: ServicesDep, buyer: CurrentBuyer, if_none_match: IfNoneMatch = None
) -> Response:
    """My cart: lines with current prices and availability, and the totals."""
    return _personal(request, await shopping.cart(services, buyer), if_none_match)


@router.post(
    "/cart/items",
    response_model=CartOut,
    responses={
        **SHOPPER_FAILURES,
        409: {"description": "Not that many can be bought now (`unavailable` says how many can)"},
        422: {"description": "No such SKU, too many of one item, or too many lines"},
    },
    tags=["cart"],
)
async def add_item(
    body: CartItemIn, services: ServicesDep, buyer: CurrentBuyer, idempotency_key: IdempotencyKey = None
) -> CartOut:
    """Add an item (or more of it); the cart as it is now."""
    current = await services.orders.add_item(buyer, body.model_dump(), idempotency_key)
    return shopping.cart_screen(current)


@router.patch(
    "/cart/items/{sku}",
    response_model=CartOut,
    responses={
        **SHOPPER_FAILURES,
        404: {"description": "Not in the cart"},
        409: {"description": "Not that many can be bought now"},
        422: {"description": "Too many of one item"},
    },
    tags=["cart"],
)
async def change_item(
    sku: SkuPath, body: CartItemPatch, services: ServicesDep, buyer: CurrentBuyer
) -> CartOut:
    """Set a line's quantity; the cart as it is now."""
    return shopping.cart_screen(await services.orders.set_quantity(buyer, sku, body.quantity))


@router.delete(
    "/cart/items/{sku}",
    response_model=CartOut,
    responses={**SHOPPER_FAILURES, 404: {"description": "Not in the cart"}},
    tags=["cart"],
)
async def remove_item(sku: SkuPath, services: ServicesDep, buyer: CurrentBuyer) -> CartOut:
    """Remove a line; the cart as it is now (one round trip for the app, not a 204 and a GET)."""
    return shopping.cart_screen(await services.orders.remove_item(buyer, sku))


@router.post(
    "/cart/codes",
    response_model=CartOut,
    responses={**SHOPPER_FAILURES, 422: {"description": "An unknown code (`unknown-code`), or six codes"}},
    tags=["cart"],
)
async def add_code(body: CartCodeIn, services: ServicesDep, buyer: CurrentBuyer) -> CartOut:
    """Enter a promotion code: the cart with it, its outcome in `codes` (applied, or why not)."""
    return shopping.cart_screen(await services.orders.add_code(buyer, body.code))


@router.delete(
    "/cart/codes/{code}",
    response_model=CartOut,
    responses={**SHOPPER_FAILURES, 404: {"description": "Not on the cart"}},
    tags=["cart"],
)
async def remove_code(code: CodePath, services: ServicesDep, buyer: CurrentBuyer) -> CartOut:
    """Take a code off the cart; the cart as it is now."""
    return shopping.cart_screen(await services.orders.remove_code(buyer, code))


# --- checkout ------------------------------------------------------------------------------------


@router.get(
    "/checkout", response_model=CheckoutOut, responses={**CACHEABLE, **SHOPPER_FAILURES}, tags=["checkout"]
)
async def checkout_screen(
    request: Request,
    services: ServicesDep,
    buyer: CurrentBuyer,
    settings: SettingsDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The checkout screen: the cart quoted for its address (totals, tax lines), the shipping methods that
    apply there (none before an address is chosen), my address book, and how to tokenise a card."""
    return _personal(request, await checkout.checkout(services, buyer, settings), if_none_match)


@router.put(
    "/checkout/address",
    response_model=CheckoutOut,
    responses={
        **SHOPPER_FAILURES,
        422: {"description": "An invalid address, or a country the shop does not sell to"},
    },
    tags=["checkout"],
)
async def choose_address(
    body: CheckoutAddressIn, services: ServicesDep, buyer: CurrentBuyer, settings: SettingsDep
) -> CheckoutOut:
    """Deliver to this address (and bill to `billing_address`, else to the same): the checkout screen
    again, the cart quoted for that country's market and the shipping methods that apply there."""
    return await checkout.set_address(services, buyer, body, settings)


@router.put(
    "/checkout/shipping-method",
    response_model=CheckoutOut,
    responses={
        **SHOPPER_FAILURES,
        422: {"description": "No such method, or it does not apply to this address and cart"},
    },
    tags=["checkout"],
)
async def choose_shipping_method(
    body: ShippingMethodIn, services: ServicesDep, buyer: CurrentBuyer, settings: SettingsDep
) -> CheckoutOut:
    """Ship by this method: the checkout screen again, with the shipping charge and totals it makes."""
    return await checkout.set_shipping_method(services, buyer, body, settings)


@router.post(
    "/checkout",
    status_code=201,
    response_model=PlacedOut,
    responses={
        **SHOPPER_FAILURES,
        202: {"description": "Paid; the order is being finalised (its status is pending_payment)"},
        402: {"description": "The card was declined; nothing was charged"},
        409: {"description": "Sold out (nothing charged), or the Idempotency-Key was used for another body"},
        422: {"description": "Invalid address, shipping method or payment method"},
    },
    tags=["checkout"],
)
async def place_order(
    body: CheckoutIn,
    response: Response,
    services: ServicesDep,
    buyer: CurrentBuyer,
    idempotency_key: RequiredIdempotencyKey,
) -> PlacedOut:
    """Buy the cart with a card token (pm_…) from the provider, delivered and billed as the cart says
    (or as the body says). A retry with the same Idempotency-Key returns the same order and never charges
    twice (orders' checkout)."""
    status, placed = await checkout.place_order(services, buyer, body, idempotency_key)
    response.status_code = status
    return placed


# --- orders --------------------------------------------------------------------------------------


@router.get("/orders", response_model=OrdersOut, responses={**CACHEABLE, **SHOPPER_FAILURES}, tags=["orders"])
async def order_history(
    request: Request,
    services: ServicesDep,
    shopper: CurrentShopper,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """My orders, newest first."""
    return _personal(request, await orders.history(services, shopper, cursor, limit), if_none_match)


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    responses={**CACHEABLE, **SHOPPER_FAILURES, 404: {"description": "There is no such order"}},
    tags=["orders"],
)
async def order(
    request: Request,
    services: ServicesDep,
    shopper: CurrentShopper,
    order_id: Annotated[str, Path(max_length=64)],
    if_none_match: IfNoneMatch = None,
) -> Response:
    """An order: its lines, totals, address, the timeline of its states and the parcel's tracking."""
    return _personal(request, await orders.order(services, shopper, order_id), if_none_match)
