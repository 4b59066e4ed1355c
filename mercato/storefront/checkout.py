"""Checkout: the shipping address (a saved one, or a new one checked here in the shopper's words) and
the card, tokenised in the browser (checkout.js). A refused form comes back as it was sent: every
field, the chosen address and the "save to my address book" tick — only the card is asked for again.
A guest (no account: `mercato.storefront.guest`) gives an e-mail address instead of choosing a saved
address, and lands on the order's page by its signed link."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront.guest import EMPTY_CART, is_guest, send_cart
from mercato.storefront.session import Shopper
from mercato.storefront.shop import ADDRESS_ID, csrf, field, local_path, private, problem, redirect
from mercato.storefront.web import render, settings, shopper_of
from mercato.webkit import forms

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


async def saved_addresses(shopper: Shopper) -> list[dict[str, Any]]:
    book = await shopper.send("account", "GET", "/api/v1/me/addresses")
    return book.json().get("data", []) if book.status_code == 200 else []


async def checkout_page(
    request: Request, shopper: Shopper, status_code: int = 200, **context: Any
) -> Response:
    cart_response = await send_cart(request, "GET", "/api/v1/cart")
    guest = is_guest(request)
    addresses = [] if guest else await saved_addresses(shopper)
    default = next(
        (a["id"] for a in addresses if a.get("is_default")), addresses[0]["id"] if addresses else "new"
    )
    context.setdefault("values", {})
    context.setdefault("errors", {})
    if not context.get("address_id"):
        context["address_id"] = default
    return private(
        render(
            request,
            "checkout.jinja",
            status_code,
            cart=cart_response.json() if cart_response is not None else EMPTY_CART,
            addresses=addresses,
            guest=guest,
            # A fresh key each time the page is shown: a double submit of this form is one order.
            idempotency_key=uuid.uuid4().hex,
            sandbox_url=settings.payment_sandbox_url.rstrip("/"),
            publishable_key=settings.payment_publishable_key,
            **context,
        )
    )


@router.get("/checkout")
async def checkout(request: Request) -> Response:
    return await checkout_page(request, shopper_of(request))


async def saved_address(shopper: Shopper, chosen: str) -> dict[str, Any] | None:
    if not ADDRESS_ID.match(chosen):
        return None
    for entry in await saved_addresses(shopper):
        if entry.get("id") == chosen:
            return {name: entry.get(name) for name in forms.ADDRESS_FIELDS if entry.get(name)}
    return None


def refusal(response: Any) -> tuple[str, dict[str, str]]:
    """What to tell the shopper when orders refuses the checkout (never the API's own words)."""
    if response.status_code == 402:
        return "Your card was declined, and nothing was charged. Please try another card.", {}
    if response.status_code == 409:
        return (
            "Sorry, something in your cart has just sold out, and nothing was charged. "
            "Please review your cart.",
            {},
        )
    if response.status_code == 422:
        errors = forms.human_errors(
            problem(response).get("errors"), forms.ADDRESS_MESSAGES, "Please check the address."
        )
        if errors and "" not in errors:
            return "Please check the address below. Nothing was charged.", errors
    return "Sorry, we couldn't place your order. Nothing was charged.", {}


@posts.post("/checkout")
async def place_order(request: Request) -> Response:
    form = await request.form()
    shopper = shopper_of(request)
    values = forms.read_address(form)
    chosen = field(form, "address_id", 100) or "new"
    kept = {"values": values, "address_id": chosen, "save_address": bool(field(form, "save_address"))}
    if chosen == "new":
        errors = forms.address_errors(values)
        if errors:
            return await checkout_page(
                request, shopper, 422, **kept, errors=errors, error="Please check the address below."
            )
        address: dict[str, Any] | None = forms.address_body(values)
    else:
        address = await saved_address(shopper, chosen)
        if address is None:
            return await checkout_page(
                request, shopper, 422, **kept, error="Please choose or enter an address."
            )
    payment_method, key = field(form, "payment_method", 100), field(form, "idempotency_key", 255)
    if not payment_method.startswith("pm_") or not key:
        return await checkout_page(request, shopper, 422, **kept, error="Please enter your card details.")
    body = {"shipping_address": address, "payment_method": payment_method}
    if guest := is_guest(request):
        body["email"] = values["email"] = field(form, "email", 320)
        if "@" not in values["email"]:
            return await checkout_page(
                request,
                shopper,
                422,
                **kept,
                errors={"email": "Please enter your e-mail address."},
                error="We need your e-mail address to send the confirmation.",
            )
    response = await send_cart(
        request, "POST", "/api/v1/checkout", json=body, headers={"Idempotency-Key": key}
    )
    if response is None:  # a guest whose cart is gone
        return redirect("/cart")
    if response.status_code in (200, 201, 202):
        if guest:  # the order's page by its signed link (the guest has no account to sign in to)
            return redirect(local_path(response.json()["order_url"]))
        if chosen == "new" and kept["save_address"]:
            await shopper.send("account", "POST", "/api/v1/me/addresses", json=address)
        return redirect(f"/orders/{response.json()['id']}")
    error, errors = refusal(response)
    return await checkout_page(request, shopper, response.status_code, **kept, errors=errors, error=error)


router.include_router(posts)
