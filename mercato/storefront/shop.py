"""The shopper's own pages: register, sign in and out, cart, checkout, orders. Thin, like app.py:
every POST is a plain HTML form (CSRF-checked), answered with a redirect or the same page with a message."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from mercato.storefront.gateway import NotFound
from mercato.storefront.guest import EMPTY_CART, merge_at_sign_in, send_cart
from mercato.storefront.session import Shopper
from mercato.storefront.web import cookies, error_page, gw, render, settings, shopper_of

SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_]{1,100}$")
ORDER_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
ADDRESS_ID = re.compile(r"^[A-Za-z0-9_]{1,100}$")
CANCELLABLE = {"placed", "confirmed", "processing"}


async def csrf(request: Request) -> None:
    await cookies.check_csrf(request, settings.session_secret.get_secret_value())


router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


def local_path(target: str | None) -> str:
    """Only ever redirect within the shop."""
    parts = urlsplit(target or "/")
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def private(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    return response


def field(form: Any, name: str, limit: int = 1024) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- register, sign in, sign out ----------------------------------------------------------------
@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return private(render(request, "login.jinja", next=local_path(next), email=""))


@posts.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    email, password, target = (
        field(form, "email", 320),
        field(form, "password"),
        local_path(field(form, "next")),
    )
    response = await gw(request).send(
        "account", "POST", "/api/v1/auth/token", json={"email": email, "password": password}
    )
    if response.status_code != 200:
        return private(
            render(
                request,
                "login.jinja",
                401,
                next=target,
                email=email,
                error="That e-mail and password don't match.",
            )
        )
    request.state.new_tokens = response.json()
    await merge_at_sign_in(request, request.state.new_tokens)
    return redirect(target)


@router.get("/register")
async def register_page(request: Request, next: str = "/") -> Response:
    return private(render(request, "register.jinja", next=local_path(next), values={}, errors={}))


@posts.post("/register")
async def register(request: Request) -> Response:
    form = await request.form()
    values = {name: field(form, name, 320) for name in ("name", "email")}
    password, target = field(form, "password"), local_path(field(form, "next"))
    response = await gw(request).send(
        "account", "POST", "/api/v1/customers", json={**values, "password": password}
    )
    if response.status_code != 201:
        body = problem(response)
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        message = (
            "An account with that e-mail already exists. Sign in instead?"
            if response.status_code == 409
            else str(body.get("detail") or "Please check the form.")
        )
        return private(
            render(request, "register.jinja", 422, next=target, values=values, errors=errors, error=message)
        )
    tokens = await gw(request).send(
        "account", "POST", "/api/v1/auth/token", json={"email": values["email"], "password": password}
    )
    if tokens.status_code != 200:
        return redirect(f"/login?{urlencode({'next': target})}")
    request.state.new_tokens = tokens.json()
    await merge_at_sign_in(request, request.state.new_tokens)
    return redirect(target)


@posts.post("/logout")
async def logout(request: Request) -> Response:
    request.state.clear_tokens = True
    return redirect("/")


# --- cart ----------------------------------------------------------------------------------------
def quantity(form: Any, default: int = 1) -> int:
    try:
        return max(0, min(99, int(field(form, "quantity", 4) or default)))
    except ValueError:
        return default


@router.get("/cart")
async def cart(request: Request) -> Response:
    response = await send_cart(request, "GET", "/api/v1/cart")
    return private(
        render(request, "cart.jinja", cart=response.json() if response is not None else EMPTY_CART)
    )


@posts.post("/cart/items/{sku}")
async def change_cart_item(request: Request, sku: str) -> Response:
    if not SKU.match(sku):
        raise NotFound("orders", sku)
    form = await request.form()
    count = quantity(form, default=0)
    if count == 0:
        response = await send_cart(request, "DELETE", f"/api/v1/cart/items/{sku}")
    else:
        response = await send_cart(request, "PATCH", f"/api/v1/cart/items/{sku}", json={"quantity": count})
    if response is not None and response.status_code == 409:
        return error_page(request, 409, "Not enough stock", "Sorry, we don't have that many left.")
    return redirect("/cart")


# --- orders ----------------------------------------------------------------------------------------
@router.get("/orders")
async def orders(request: Request, cursor: str | None = None) -> Response:
    params = {"limit": 20} | ({"cursor": cursor[:500]} if cursor else {})
    response = await shopper_of(request).send("orders", "GET", "/api/v1/orders", params=params)
    if response.status_code != 200:
        return error_page(request, 400, "That link doesn't look right", "Try your order history again.")
    listing = response.json()
    return private(
        render(request, "orders.jinja", orders=listing["data"], next_cursor=listing.get("next_cursor"))
    )


async def order_or_404(request: Request, shopper: Shopper, order_id: str) -> dict[str, Any]:
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    response = await shopper.send("orders", "GET", f"/api/v1/orders/{order_id}")
    if response.status_code != 200:
        raise NotFound("orders", order_id)
    return response.json()


@router.get("/orders/{order_id}")
async def order(request: Request, order_id: str, t: str | None = None) -> Response:
    if t is not None:  # a guest's order, by the signed link of its confirmation
        return await linked_order(request, order_id, t)
    shopper = shopper_of(request)
    found = await order_or_404(request, shopper, order_id)
    return private(render(request, "order.jinja", order=found, cancellable=found["state"] in CANCELLABLE))


CREDIT_NOTE = re.compile(r"^[A-Z]{2,8}-CN-[0-9]{4}-[0-9]{5,9}$")


@router.get("/orders/{order_id}/invoice")
async def invoice(request: Request, order_id: str, t: str | None = None) -> Response:
    """The order's invoice (PDF): the signed-in shopper's, or a guest's by the order link's `t`."""
    return await _document(request, order_id, "invoice", t)


@router.get("/orders/{order_id}/credit-notes/{number}")
async def credit_note(request: Request, order_id: str, number: str, t: str | None = None) -> Response:
    if not CREDIT_NOTE.match(number):
        raise NotFound("orders", number)
    return await _document(request, order_id, f"credit-notes/{number}", t)


async def _document(request: Request, order_id: str, document: str, t: str | None) -> Response:
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    path = f"/api/v1/orders/{order_id}/{document}"
    if t:  # a guest's order link: its token goes to the API in a header, never in a URL
        response = await gw(request).send("orders", "GET", path, headers={"X-Order-Token": t[:200]})
    else:
        response = await shopper_of(request).send("orders", "GET", path)
    if response.status_code != 200:
        raise NotFound("orders", order_id)
    return Response(
        response.content,
        media_type="application/pdf",
        headers={
            "content-disposition": response.headers["content-disposition"],
            "cache-control": "private, no-store",
            "referrer-policy": "no-referrer",
        },
    )


async def linked_order(request: Request, order_id: str, token: str) -> Response:
    """Anyone with the link sees the order (it is the guest's only key); the token goes to the API in
    a header. The page is not kept anywhere, and tells no other site where it was (Referrer-Policy)."""
    if not ORDER_ID.match(order_id) or not ORDER_TOKEN.match(token):
        raise NotFound("orders", order_id)
    response = await gw(request).send(
        "orders", "GET", f"/api/v1/orders/{order_id}", headers={"X-Order-Token": token}
    )
    if response.status_code != 200:
        raise NotFound("orders", order_id)
    page = render(
        request, "order.jinja", order=response.json(), cancellable=False, by_link=True, order_token=token
    )
    page.headers["referrer-policy"] = "no-referrer"
    return private(page)


# --- a new account claims the orders it bought as a guest (the link e-mailed at registration) --------
@router.get("/account/claim-orders")
async def claim_page(request: Request, t: str = "") -> Response:
    await shopper_of(request).ensure_signed_in()
    return private(render(request, "claim.jinja", token=t[:500]))


@posts.post("/account/claim-orders")
async def claim_orders(request: Request) -> Response:
    token = field(await request.form(), "token", 500)
    response = await shopper_of(request).send("orders", "POST", "/api/v1/order-claims", json={"token": token})
    if response.status_code == 200:
        return redirect("/orders")
    message = (
        "This link was sent for another account. Sign out, then sign in with the account you registered."
        if response.status_code == 403
        else str(problem(response).get("detail") or "This link doesn't work.")
    )
    return private(render(request, "claim.jinja", response.status_code, token=token, error=message))


@posts.post("/orders/{order_id}/cancel")
async def cancel_order(request: Request, order_id: str) -> Response:
    shopper = shopper_of(request)
    found = await order_or_404(request, shopper, order_id)
    response = await shopper.send("orders", "POST", f"/api/v1/orders/{order_id}/cancel")
    if response.status_code >= 400:
        message = "Sorry, this order can no longer be cancelled: it is on its way."
        return private(render(request, "order.jinja", 409, order=found, cancellable=False, error=message))
    return redirect(f"/orders/{order_id}")


router.include_router(posts)
