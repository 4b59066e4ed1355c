"""Orders HTTP routes: the shopper's cart, checkout and order history (token required at the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from mercato.platform.auth import CurrentCustomer
from mercato.platform.errors import BadRequest
from mercato.platform.pagination import Page, Paging
from mercato.services.orders import service
from mercato.services.orders.schemas import (
    CartItemIn,
    CartItemPatch,
    CartOut,
    CheckoutIn,
    OrderOut,
    OrderSummary,
)
from mercato.services.orders.service import Deps

router = APIRouter(prefix="/api/v1")

SkuPath = Annotated[str, Path(max_length=64)]
OrderIdPath = Annotated[str, Path(max_length=64)]


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]


@router.get("/cart", response_model=CartOut, tags=["cart"])
async def get_cart(customer_id: CurrentCustomer, deps: DepsDep) -> CartOut:
    """My cart with current prices and availability, line totals, shipping and total."""
    return await service.cart(deps, customer_id)


@router.post("/cart/items", response_model=CartOut, tags=["cart"])
async def add_item(body: CartItemIn, customer_id: CurrentCustomer, deps: DepsDep) -> CartOut:
    """Add an item, or increase its quantity if it is in the cart already."""
    return await service.add_item(deps, customer_id, body)


@router.patch("/cart/items/{sku}", response_model=CartOut, tags=["cart"])
async def change_item(
    sku: SkuPath, body: CartItemPatch, customer_id: CurrentCustomer, deps: DepsDep
) -> CartOut:
    return await service.set_quantity(deps, customer_id, sku, body.quantity)


@router.delete("/cart/items/{sku}", status_code=204, tags=["cart"])
async def remove_item(sku: SkuPath, customer_id: CurrentCustomer, deps: DepsDep) -> Response:
    await service.remove_item(deps, customer_id, sku)
    return Response(status_code=204)


@router.post(
    "/checkout",
    status_code=201,
    response_model=OrderOut,
    tags=["checkout"],
    responses={
        202: {"description": "Paid; the order is being finalised (its state is pending_payment)"},
        402: {"description": "The card was declined; nothing was charged and the stock is back"},
        409: {
            "description": "Out of stock (nothing charged), or the Idempotency-Key was used for another body"
        },
    },
)
async def checkout(
    body: CheckoutIn,
    customer_id: CurrentCustomer,
    deps: DepsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> OrderOut:
    """Buy the cart: reserve stock, capture payment, place the order. Retrying with the same
    Idempotency-Key returns the same order and never charges twice."""
    if not idempotency_key or not idempotency_key.strip():
        raise BadRequest(
            "Checkout needs an Idempotency-Key header.", errors={"Idempotency-Key": "is required"}
        )
    status, order = await service.checkout(deps, customer_id, idempotency_key, body)
    response.status_code = status
    return order


@router.get("/orders", response_model=Page[OrderSummary], tags=["orders"])
async def orders(customer_id: CurrentCustomer, deps: DepsDep, paging: Paging) -> Page[OrderSummary]:
    """My orders, newest first."""
    rows = await service.list_orders(
        deps, customer_id, before=paging.position.get("before"), limit=paging.fetch
    )
    return paging.page(rows, lambda last: {"before": last.id})


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
async def order(order_id: OrderIdPath, customer_id: CurrentCustomer, deps: DepsDep) -> OrderOut:
    """An order with its lines, totals, state history and payment summary."""
    return await service.get_order(deps, customer_id, order_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
async def cancel(order_id: OrderIdPath, customer_id: CurrentCustomer, deps: DepsDep) -> OrderOut:
    """Cancel before shipping; the payment is refunded."""
    return await service.cancel(deps, customer_id, order_id)


@router.post("/orders/{order_id}/return", response_model=OrderOut, tags=["orders"])
async def request_return(order_id: OrderIdPath, customer_id: CurrentCustomer, deps: DepsDep) -> OrderOut:
    """Ask to return a delivered order."""
    return await service.request_return(deps, customer_id, order_id)
