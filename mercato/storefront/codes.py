"""Discount codes on the cart (docs/promotions.md, "In the shop"): the cart page's and the checkout's
"Discount code" field adds one (POST /api/v1/cart/codes), each code's Remove button takes it off
(DELETE /api/v1/cart/codes/{code}). Orders keeps the codes on the cart and says of each whether it
applied and, if not, why, in a sentence the page shows as it is; a code orders does not know at all is
not kept, and its sentence is shown under the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront import checkout
from mercato.storefront.guest import EMPTY_CART, send_cart
from mercato.storefront.shop import csrf, field, private, problem, redirect
from mercato.storefront.web import render, shopper_of

router = APIRouter(dependencies=[Depends(csrf)])
PAGES = ("/cart", "/checkout")
CODE_LIMIT = 64


def _page(form: Any) -> str:
    target = field(form, "next", 20)
    return target if target in PAGES else "/cart"


async def _refused(request: Request, page: str, code: str, message: str) -> Response:
    """The page again, the code as typed in its field with why it was not taken."""
    context = {"code_error": message, "code_value": code}
    if page == "/checkout":
        return await checkout.checkout_page(request, shopper_of(request), 422, **context)
    answer = await send_cart(request, "GET", "/api/v1/cart")
    cart = answer.json() if answer is not None else EMPTY_CART
    return private(render(request, "cart.jinja", 422, cart=cart, **context))


def _why(response: Any, code: str) -> str:
    body = problem(response)
    if str(body.get("type", "")).endswith("validation-error"):  # not even shaped like a code
        return "That doesn't look like a discount code: please check it."
    return str(body.get("detail") or f"Sorry, the code {code} can't be used.")  # orders' own sentence


@router.post("/cart/codes")
async def add_code(request: Request) -> Response:
    form = await request.form()
    page, code = _page(form), field(form, "code", CODE_LIMIT)
    if not code:
        return await _refused(request, page, code, "Please enter a code.")
    response = await send_cart(request, "POST", "/api/v1/cart/codes", json={"code": code})
    if response is None:  # a guest with no cart: nothing to apply a code to
        return redirect("/cart")
    if response.status_code != 200:
        return await _refused(request, page, code, _why(response, code))
    return redirect(page)


@router.post("/cart/codes/remove")
async def remove_code(request: Request) -> Response:
    form = await request.form()
    page, code = _page(form), field(form, "code", CODE_LIMIT)
    if code:  # one no longer on the cart (removed in another tab) is simply gone: 404 changes nothing
        await send_cart(request, "DELETE", f"/api/v1/cart/codes/{quote(code, safe='')}")
    return redirect(page)
