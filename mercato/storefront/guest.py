"""Shopping without an account (docs/guest-checkout.md): the guest cart's token lives in an HttpOnly
cookie, made when the first item is added; every cart and checkout call goes through `send_cart`, as
the signed-in shopper or as the guest. A shopper who signs in (or registers) with a guest cart has it
merged into the account's cart by the first cart call that carries both — at sign-in itself — and the
cookie is dropped."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request, Response

from mercato.storefront.web import cookies, gw, shopper_of

CART_COOKIE = "mercato_cart"
CART_MAX_AGE = 30 * 86400
EMPTY_CART: dict[str, Any] = {"lines": [], "item_count": 0, "purchasable": False}


def is_guest(request: Request) -> bool:
    return not cookies.signed_in(request)


def _cart_token(request: Request) -> str | None:
    if getattr(request.state, "forget_cart", False):
        return None
    return getattr(request.state, "new_cart", None) or request.cookies.get(CART_COOKIE)


async def _new_cart(request: Request) -> str:
    response = await gw(request).send("orders", "POST", "/api/v1/carts")
    response.raise_for_status()
    request.state.new_cart = token = response.json()["cart_token"]
    request.state.forget_cart = False
    shown = getattr(request.state, "shown", None)  # the market the pages are shown in (market.resolve)
    if shown is not None and shown.country:  # the cart is priced there too
        await gw(request).send(
            "orders",
            "PUT",
            "/api/v1/cart/country",
            json={"country": shown.country},
            headers={"X-Cart-Token": token},
        )
    return token


async def send_cart(
    request: Request, method: str, path: str, *, create: bool = False, **kwargs: Any
) -> httpx.Response | None:
    """A call to the cart or checkout: the signed-in shopper's (with the guest cart's token, if the
    browser still has one: orders merges it, and the cookie goes), or the guest's. None for a guest
    without a cart (unless `create`: one is made first)."""
    headers = dict(kwargs.pop("headers", None) or {})
    token = _cart_token(request)
    if not is_guest(request):
        response = await shopper_of(request).send(
            "orders", method, path, headers=headers | ({"X-Cart-Token": token} if token else {}), **kwargs
        )
        if token:
            request.state.forget_cart = True  # merged (or gone): the account's cart is all there is
        return response
    if token is None:
        if not create:
            return None
        token = await _new_cart(request)
    response = await gw(request).send(
        "orders", method, path, headers=headers | {"X-Cart-Token": token}, **kwargs
    )
    if response.status_code == 401:  # the cart is gone (merged into an account, or erased)
        request.state.forget_cart = True
        if not create:
            return None
        token = await _new_cart(request)
        response = await gw(request).send(
            "orders", method, path, headers=headers | {"X-Cart-Token": token}, **kwargs
        )
    return response


async def merge_at_sign_in(request: Request, tokens: dict[str, Any]) -> None:
    """Signing in (or registering) with a guest cart: it joins the account's now, before any page."""
    token = _cart_token(request)
    if token:
        await gw(request).send(
            "orders", "GET", "/api/v1/cart", token=tokens["access_token"], headers={"X-Cart-Token": token}
        )
        request.state.forget_cart = True


def write_cart_cookie(request: Request, response: Response) -> None:
    """What this request changed of the guest cart's cookie (the app's middleware calls it)."""
    options = cookies.options(request)
    if getattr(request.state, "forget_cart", False):
        response.delete_cookie(CART_COOKIE, **options)
    elif new := getattr(request.state, "new_cart", None):
        response.set_cookie(CART_COOKIE, new, max_age=CART_MAX_AGE, **options)
