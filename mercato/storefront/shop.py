"""The shopper's own pages: register, sign in and out, cart, checkout, orders. Thin, like app.py:
every POST is a plain HTML form (CSRF-checked), answered with a redirect or the same page with a message."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from mercato.storefront.gateway import NotFound
from mercato.storefront.session import Shopper
from mercato.storefront.web import cookies, error_page, gw, render, settings, shopper_of

SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_]{1,100}$")
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
    response = await shopper_of(request).send("orders", "GET", "/api/v1/cart")
    return private(render(request, "cart.jinja", cart=response.json()))


@posts.post("/cart/items/{sku}")
async def change_cart_item(request: Request, sku: str) -> Response:
    if not SKU.match(sku):
        raise NotFound("orders", sku)
    form = await request.form()
    count = quantity(form, default=0)
    shopper = shopper_of(request)
    if count == 0:
        response = await shopper.send("orders", "DELETE", f"/api/v1/cart/items/{sku}")
    else:
        response = await shopper.send(
            "orders", "PATCH", f"/api/v1/cart/items/{sku}", json={"quantity": count}
        )
    if response.status_code == 409:
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
async def order(request: Request, order_id: str) -> Response:
    shopper = shopper_of(request)
    found = await order_or_404(request, shopper, order_id)
    return private(render(request, "order.jinja", order=found, cancellable=found["state"] in CANCELLABLE))


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
