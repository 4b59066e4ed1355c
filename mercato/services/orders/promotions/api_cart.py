"""The shopper's promotion codes on the cart (`/api/v1/cart/codes`): under the cart's own credentials, a
shopper's token or a guest cart's X-Cart-Token (docs/api.md, "Promotion codes")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mercato.services.orders.api import CurrentBuyer, DepsDep
from mercato.services.orders.promotions import cart_codes
from mercato.services.orders.promotions.cart_schemas import CodeIn
from mercato.services.orders.schemas import CartOut

router = APIRouter(prefix="/api/v1", tags=["cart"])

CodePath = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]


@router.post(
    "/cart/codes",
    response_model=CartOut,
    responses={422: {"description": "An unknown code (slug `unknown-code`: not kept), or a sixth code"}},
)
async def add_code(body: CodeIn, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Enter a promotion code: it stays on the cart, and `codes` says whether it applies and, if not, why
    (expired, minimum not met, not combinable with another…). At most five; the same code again changes
    nothing."""
    return await cart_codes.add_code(deps, buyer, body.code)


@router.delete(
    "/cart/codes/{code}", response_model=CartOut, responses={404: {"description": "Not on the cart"}}
)
async def remove_code(code: CodePath, buyer: CurrentBuyer, deps: DepsDep) -> CartOut:
    """Take a code off the cart; the cart quoted without it."""
    return await cart_codes.remove_code(deps, buyer, code)
