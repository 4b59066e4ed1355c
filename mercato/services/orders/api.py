"""Orders HTTP routes: the shopper's cart, checkout and order history (token required at the gateway),
and the back office's order operations and reports (a staff token with MFA, checked by the gateway;
roles checked here)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import APIKeyHeader

from mercato.contracts.money import Currency
from mercato.platform.auth import SESSION_ENDED, CurrentCustomer, OptionalShopper, Shopper
from mercato.platform.errors import Unauthorized
from mercato.platform.idempotency import RequiredIdempotencyKey
from mercato.platform.pagination import Day, Page, Paging
from mercato.platform.sessions import is_ended
from mercato.platform.staff import Staff, requires
from mercato.services.orders import (
    cart,
    delivery,
    history,
    identity,
    lookups,
    operations,
    refunds,
    reports,
)
from mercato.services.orders import checkout as checkout_use_case
from mercato.services.orders.deps import Deps
from mercato.services.orders.domain import OrderState
from mercato.services.orders.guests import orders as guest_orders
from mercato.services.orders.identity import Buyer
from mercato.services.orders.schemas import (
    AddressesIn,
    CartItemIn,
    CartItemPatch,
    CartOut,
    CheckoutIn,
    CountryIn,
    GuestCartOut,
    OrderOut,
    OrdersByStateReport,
    OrderSummary,
    SalesReport,
    ShippingMethodIn,
    ShippingMethodList,
    StaffOrderOut,
    StaffOrderSummary,
    StaffRefundIn,
    TopProductsReport,
    TransitionIn,
)

router = APIRouter(prefix="/api/v1")
admin = APIRouter(prefix="/admin/v1")

SkuPath = Annotated[str, Path(max_length=64)]
OrderIdPath = Annotated[str, Path(max_length=64)]


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]

# A guest's cart, for a client without an account (POST /api/v1/carts gives it); the cart and
# checkout routes take a shopper token, this header, or both (a shopper who just signed in: the guest
# cart is merged into the account's).
_cart_token = APIKeyHeader(
    name="X-Cart-Token",
    scheme_name="CartToken",
    description="The token of a guest cart, from POST /api/v1/carts.",
    auto_error=False,
)
CartToken = Annotated[str | None, Security(_cart_token)]
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def _buyer(shopper: Shopper | None, token: str | None) -> Buyer:
    if token is not None and not _TOKEN.match(token):
        raise Unauthorized("This X-Cart-Token was not issued by this shop.")
    if shopper is None and token is None:
        raise Unauthorized("Sign in, or send the X-Cart-Token of a guest cart (POST /api/v1/carts).")
    return Buyer(shopper, token)


async def session_alive(deps: Deps, shopper: Shopper) -> None:
    async with deps.db.read() as session:
        if await is_ended(session, shopper.id, shopper.issued_at):
            raise Unauthorized(SESSION_ENDED)


async def current_buyer(shopper: OptionalShopper, token: CartToken, deps: DepsDep) -> Buyer:
    buyer = _buyer(shopper, token)
    if shopper is not None:
        await session_alive(deps, shopper)
    return buyer


async def buyer_checked_in_transaction(shopper: OptionalShopper, token: CartToken) -> Buyer:
    """As `current_buyer`, but the use case checks the session in the transaction that acts on it."""
    return _buyer(shopper, token)


CurrentBuyer = Annotated[Buyer, Depends(current_buyer)]

_order_token = APIKeyHeader(
    name="X-Order-Token",
    scheme_name="OrderToken",
    description="The `t` of a guest order's signed link (`order_url`): reads that one order, no account.",
    auto_error=False,
)
OrderToken = Annotated[str | None, Security(_order_token)]


@router.post("/carts", status_code=201, response_model=GuestCartOut, tags=["cart"])
async def new_cart(deps: DepsDep) -> GuestCartOut:
    """Start a guest cart: shopping without an account. Keep its token; it is the cart's only key."""
    token, cart_id = await identity.new_guest_cart(deps)
    return GuestCartOut(cart_token=token, cart_id=cart_id)


@router.get("/cart", response_model=CartOut, tags=["cart"])
async def get_cart(buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """My cart with current prices and availability, line totals, shipping and total."""
    return await cart.cart(deps, buyer)


@router.post("/cart/items", response_model=CartOut, tags=["cart"])
async def add_item(body: CartItemIn, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Add an item, or increase its quantity if it is in the cart already."""
    return await cart.add_item(deps, buyer, body)


@router.patch("/cart/items/{sku}", response_model=CartOut, tags=["cart"])
async def change_item(sku: SkuPath, body: CartItemPatch, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    return await cart.set_quantity(deps, buyer, sku, body.quantity)


@router.put(
    "/cart/address",
    response_model=CartOut,
    tags=["cart"],
    responses={
        422: {"description": "A country the shop does not sell to, or a US address without its state"}
    },
)
async def set_address(body: AddressesIn, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Where the cart goes (and the billing address, the shipping address when omitted): the cart is
    now quoted for that country's market, tax and shipping methods."""
    return await delivery.set_addresses(deps, buyer, body)


@router.put(
    "/cart/country",
    response_model=CartOut,
    tags=["cart"],
    responses={422: {"description": "A country the shop does not sell to"}},
)
async def set_country(body: CountryIn, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Quote the cart for a country before an address is known (the shop's market picker); a shipping
    address in another country is forgotten."""
    return await delivery.set_country(deps, buyer, body.country)


@router.get("/cart/shipping-methods", response_model=ShippingMethodList, tags=["cart"])
async def shipping_methods(buyer: CurrentBuyer, deps: DepsDep) -> ShippingMethodList:
    """The shipping methods that apply to the cart's address (or country) and contents, with their
    price for this cart and delivery estimate."""
    return ShippingMethodList(data=await delivery.shipping_methods(deps, buyer))


@router.put(
    "/cart/shipping-method",
    response_model=CartOut,
    tags=["cart"],
    responses={422: {"description": "The method does not apply to this cart and address"}},
)
async def choose_shipping_method(body: ShippingMethodIn, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Choose one of the methods GET /cart/shipping-methods lists."""
    return await delivery.choose_shipping_method(deps, buyer, body.id)


@router.delete("/cart/items/{sku}", status_code=204, tags=["cart"])
async def remove_item(sku: SkuPath, buyer: CurrentBuyer, deps: DepsDep) -> Response:
    await cart.remove_item(deps, buyer, sku)
    return Response(status_code=204)


@router.post(
    "/checkout",
    status_code=201,
    response_model=OrderOut,
    tags=["checkout"],
    responses={
        202: {"description": "Paid; the order is being finalised (its state is pending_payment)"},
        402: {
            "description": "The card was declined; nothing was charged (gift cards keep their balance) "
            "and the stock is back"
        },
        422: {
            "description": "Invalid; or a gift card that cannot pay (`gift-card-invalid`: `errors` "
            "`gift_cards[i]`, `reasons`), or no `payment_method` for what the gift cards leave — nothing "
            "charged, the cart kept"
        },
        409: {
            "description": "Out of stock, or a code of the cart used up (`promotion-unavailable`: `code`, "
            "`promotion`) — nothing charged; or the Idempotency-Key was used for another body"
        },
    },
)
async def checkout(
    body: CheckoutIn,
    buyer: Annotated[Buyer, Depends(buyer_checked_in_transaction)],
    deps: DepsDep,
    response: Response,
    idempotency_key: RequiredIdempotencyKey,
) -> OrderOut:
    """Buy the cart: reserve stock, capture payment, place the order. Retrying with the same
    Idempotency-Key returns the same order and never charges twice."""
    status, order = await checkout_use_case.checkout(deps, buyer, idempotency_key, body)
    response.status_code = status
    return order


@router.get("/orders", response_model=Page[OrderSummary], tags=["orders"])
async def orders(customer_id: CurrentCustomer, deps: DepsDep, paging: Paging) -> Page[OrderSummary]:
    """My orders, newest first."""
    rows = await history.list_orders(
        deps, customer_id, before=paging.position.get("before"), limit=paging.fetch
    )
    return paging.page(rows, lambda last: {"before": last.id})


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
async def order(
    order_id: OrderIdPath, shopper: OptionalShopper, token: OrderToken, deps: DepsDep
) -> OrderOut:
    """An order with its lines, totals, state history and payment summary: one of mine, or a guest's
    order by the `X-Order-Token` of its signed link."""
    if token is not None:
        return await guest_orders.linked_order(deps, order_id, token)
    if shopper is None:
        raise Unauthorized("Sign in, or open the order by its link (X-Order-Token).")
    await session_alive(deps, shopper)
    return await history.get_order(deps, shopper.id, order_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
async def cancel(order_id: OrderIdPath, customer_id: CurrentCustomer, deps: DepsDep) -> OrderOut:
    """Cancel before shipping; the payment is refunded."""
    return await operations.cancel(deps, customer_id, order_id)


@router.post("/orders/{order_id}/return", response_model=OrderOut, tags=["orders"])
async def request_return(order_id: OrderIdPath, customer_id: CurrentCustomer, deps: DepsDep) -> OrderOut:
    """Ask to return a delivered order."""
    return await operations.request_return(deps, customer_id, order_id)


# --- back office: operations (orders, fulfilment, refunds), support (look-ups), reports ------------

OrderReader = Annotated[Staff, requires("operations", "support")]
Operations = Annotated[Staff, requires("operations")]
ProductAnalyst = Annotated[Staff, requires("operations", "merchandising")]

FromDate = Annotated[Day | None, Query(alias="from", description="First day, included (UTC).")]
ToDate = Annotated[Day | None, Query(alias="to", description="Last day, included (UTC).")]
ReportCurrency = Annotated[Currency, Query(description="Orders in other currencies are not counted.")]


@admin.get("/orders", response_model=Page[StaffOrderSummary], tags=["back office: orders"])
async def staff_orders(
    staff: OrderReader,
    deps: DepsDep,
    paging: Paging,
    state: Annotated[
        list[OrderState] | None, Query(description="One or several; repeat the parameter.")
    ] = None,
    placed_from: FromDate = None,
    placed_to: ToDate = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=64,
            description="An order number (`M-10042` or `10042`), an order id or its start (`ord_01JD…`), "
            "or a customer id.",
        ),
    ] = None,
) -> Page[StaffOrderSummary]:
    """Every order, failed checkouts included, newest first, filtered by state, placed day,
    customer or order number."""
    rows = await lookups.staff_orders(
        deps,
        states=state or [],
        placed_from=placed_from,
        placed_to=placed_to,
        customer_id=customer_id,
        q=q,
        before=paging.position.get("before"),
        limit=paging.fetch,
    )
    return paging.page(rows, lambda last: {"before": last.id})


@admin.get("/orders/{order_id}", response_model=StaffOrderOut, tags=["back office: orders"])
async def staff_order(order_id: OrderIdPath, staff: OrderReader, deps: DepsDep) -> StaffOrderOut:
    """An order with its lines, totals, address, payment, shipment and its whole history: every
    state, when, why and who asked (customer, staff member or system)."""
    return await lookups.staff_order(deps, order_id)


@admin.post(
    "/orders/{order_id}/transitions",
    response_model=StaffOrderOut,
    tags=["back office: orders"],
    responses={
        409: {"description": "The state machine does not allow it, or it was shipped with other data"},
        422: {"description": "Shipping without carrier and tracking number, or a state staff cannot set"},
    },
)
async def transition(
    order_id: OrderIdPath, body: TransitionIn, staff: Operations, deps: DepsDep
) -> StaffOrderOut:
    """Move the order: confirmed, processing, shipped (with carrier and tracking number), delivered,
    cancelled (before shipping: restocked and refunded in full) or returned (after delivery). The
    customer is told by e-mail. Asking for the state the order is in already, with the same data,
    changes nothing and answers 200."""
    return await operations.staff_transition(deps, staff, order_id, body)


@admin.post(
    "/orders/{order_id}/refunds",
    response_model=StaffOrderOut,
    tags=["back office: orders"],
    responses={
        409: {
            "description": "Nothing to refund, refunding everything before shipping (cancel instead), the "
            "provider refused, or the Idempotency-Key was used for another request"
        },
        422: {
            "description": "More than is left to refund, another currency, or lines not on the order (or "
            "more units than are left of them)"
        },
        503: {"description": "The payment provider did not confirm: retry with the same Idempotency-Key"},
    },
)
async def refund(
    order_id: OrderIdPath,
    body: StaffRefundIn,
    staff: Operations,
    deps: DepsDep,
    idempotency_key: RequiredIdempotencyKey,
) -> Response:
    """Refund everything left (no `amount`), part of it, or what returned units paid (`lines`).
    Retrying with the same Idempotency-Key answers the first response and never refunds twice."""
    return await refunds.staff_refund(deps, staff, order_id, idempotency_key, body)


@admin.get("/reports/sales", response_model=SalesReport, tags=["back office: reports"])
async def sales(
    staff: Operations,
    deps: DepsDep,
    start: FromDate = None,
    end: ToDate = None,
    currency: ReportCurrency = "EUR",
) -> SalesReport:
    """Per day (UTC), every day of the range: orders placed, their gross value, what has been
    refunded of them, the revenue left, and the average order value. At most a year; by default the
    last 30 days."""
    start, end = reports.report_range(deps, start, end)
    return await reports.sales_report(deps, start=start, end=end, currency=currency)


@admin.get("/reports/orders-by-state", response_model=OrdersByStateReport, tags=["back office: reports"])
async def orders_by_state(staff: Operations, deps: DepsDep) -> OrdersByStateReport:
    """How many orders are in each state right now."""
    return await reports.orders_by_state_report(deps)


@admin.get("/reports/top-products", response_model=TopProductsReport, tags=["back office: reports"])
async def top_products(
    staff: ProductAnalyst,
    deps: DepsDep,
    start: FromDate = None,
    end: ToDate = None,
    currency: ReportCurrency = "EUR",
    by: Annotated[Literal["units", "revenue"], Query(description="What ranks them.")] = "units",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> TopProductsReport:
    """The best-selling products of the orders placed in the range that stayed sold."""
    start, end = reports.report_range(deps, start, end)
    return await reports.top_products_report(
        deps, start=start, end=end, currency=currency, by=by, limit=limit
    )
