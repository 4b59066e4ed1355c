"""Checkout: the shipping address (a saved one, or a new one checked here in the shopper's words), the
delivery (the methods orders offers for that address, priced), the billing address (the shipping one
unless the shopper says otherwise) and the card, tokenised in the browser (checkout.js). Every figure is
orders' quote (GET /api/v1/cart), never worked out here. A refused form comes back as it was sent: every
field, the chosen address and the "save to my address book" tick — only the card is asked for again.
A guest (no account: `mercato.storefront.guest`) gives an e-mail address instead of choosing a saved
address, and lands on the order's page by its signed link."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront import tenders
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
    answer = await send_cart(request, "GET", "/api/v1/cart")
    cart = answer.json() if answer is not None else dict(EMPTY_CART)
    guest = is_guest(request)
    addresses = [] if guest else await saved_addresses(shopper)
    default = next(
        (a["id"] for a in addresses if a.get("is_default")), addresses[0]["id"] if addresses else "new"
    )
    if cart.get("lines") and not cart.get("shipping_address") and default != "new":
        # Quote for where it will most likely go: the default address, until the shopper picks another.
        cart = await _put_address(request, await saved_address(shopper, default)) or cart
    context.setdefault("values", cart.get("shipping_address") or {})
    context.setdefault("errors", {})
    other_billing = cart.get("billing_address") not in (None, cart.get("shipping_address"))
    context.setdefault("billing_same", not other_billing)
    context.setdefault("billing", cart["billing_address"] if other_billing else {})
    context.setdefault("billing_errors", {})
    if not context.get("address_id"):
        context["address_id"] = _matching(addresses, cart.get("shipping_address")) or default
    methods = await send_cart(request, "GET", "/api/v1/cart/shipping-methods") if cart.get("lines") else None
    return private(
        render(
            request,
            "checkout.jinja",
            status_code,
            cart=cart,
            methods=methods.json()["data"] if methods is not None and methods.status_code == 200 else [],
            addresses=addresses,
            guest=guest,
            gift=tenders.split(tenders.held(request), (cart.get("totals") or {}).get("total")),
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


def _matching(addresses: list[dict[str, Any]], address: dict[str, Any] | None) -> str | None:
    """The saved address the cart's shipping address is, if it is one."""
    if not address:
        return None
    for entry in addresses:
        if all(entry.get(name) == address.get(name) for name in forms.ADDRESS_FIELDS if name != "phone"):
            return entry["id"]
    return None


async def _put_address(
    request: Request, address: dict[str, Any] | None, billing: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Quote the cart for `address` (orders keeps it on the cart); the cart, or None if refused."""
    if not address:
        return None
    body = {"shipping_address": address} | ({"billing_address": billing} if billing else {})
    response = await send_cart(request, "PUT", "/api/v1/cart/address", json=body)
    return response.json() if response is not None and response.status_code == 200 else None


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
    if response.status_code == 409 and problem(response).get("type", "").endswith("promotion-unavailable"):
        return str(
            problem(response).get("detail")
            or "A code in your cart was just used up; the totals now show the new price. Nothing was charged."
        ), {}
    if response.status_code == 409 and problem(response).get("type", "").endswith("not-sold-in-market"):
        return (
            "Sorry, something in your cart isn't sold in that country, and nothing was charged. "
            "Please review your cart.",
            {},
        )
    if response.status_code == 409:
        return (
            "Sorry, something in your cart has just sold out, and nothing was charged. "
            "Please review your cart.",
            {},
        )
    if response.status_code == 422 and "payment_method" in (problem(response).get("errors") or {}):
        return "Please enter your card details: the gift cards don't cover the whole order.", {}
    if response.status_code == 422 and "shipping_method" in (problem(response).get("errors") or {}):
        return "This delivery option isn't available for this address: please choose another.", {}
    if response.status_code == 422:
        errors = forms.human_errors(
            problem(response).get("errors"), forms.ADDRESS_MESSAGES, "Please check the address."
        )
        if errors and "" not in errors:
            return "Please check the address below. Nothing was charged.", errors
    return "Sorry, we couldn't place your order. Nothing was charged.", {}


async def read_addresses(
    shopper: Shopper, form: Any
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(what the form keeps when shown again, the shipping address, the billing address — None: the
    same —, what is wrong with them, if anything)."""
    values = forms.read_address(form)
    chosen = field(form, "address_id", 100) or "new"
    billing_same = bool(field(form, "billing_same"))
    billing_values = forms.read_address(form, "billing_")
    if email := field(form, "email", 320):  # a guest's
        values["email"] = email
    kept: dict[str, Any] = {
        "values": values,
        "address_id": chosen,
        "save_address": bool(field(form, "save_address")),
        "billing": billing_values,
        "billing_same": billing_same,
    }
    if chosen == "new":
        if errors := forms.address_errors(values):
            return kept | {"errors": errors}, None, None, "Please check the address below."
        address: dict[str, Any] | None = forms.address_body(values)
    else:
        address = await saved_address(shopper, chosen)
        if address is None:
            return kept, None, None, "Please choose or enter an address."
    if billing_same or not any(billing_values.values()):  # unticked but left empty: the same
        return kept, address, None, None
    if errors := forms.address_errors(billing_values):
        return kept | {"billing_errors": errors}, None, None, "Please check the billing address below."
    return kept, address, forms.address_body(billing_values), None


@posts.post("/checkout/delivery")
async def update_delivery(request: Request) -> Response:
    """The address (or the delivery option) changed: orders quotes the cart for it again, and the page
    shows the methods that apply there and the new totals."""
    form = await request.form()
    shopper = shopper_of(request)
    kept, address, billing, error = await read_addresses(shopper, form)
    if error:
        return await checkout_page(request, shopper, 422, **kept, error=error)
    if await _put_address(request, address, billing) is None:
        return await checkout_page(
            request, shopper, 422, **kept, error="Sorry, we can't deliver to this address. Please check it."
        )
    if method := field(form, "shipping_method", 40):
        # One that does not apply to the new address is simply not kept: the cheapest is quoted.
        await send_cart(request, "PUT", "/api/v1/cart/shipping-method", json={"id": method})
    return redirect("/checkout")


@posts.post("/checkout")
async def place_order(request: Request) -> Response:
    form = await request.form()
    shopper = shopper_of(request)
    kept, address, billing, error = await read_addresses(shopper, form)
    if error:
        return await checkout_page(request, shopper, 422, **kept, error=error)
    payment_method, key = field(form, "payment_method", 100), field(form, "idempotency_key", 255)
    cards = tenders.held(request)
    if not key or not (payment_method.startswith("pm_") or cards):  # gift cards may pay it all: orders says
        return await checkout_page(request, shopper, 422, **kept, error="Please enter your card details.")
    body: dict[str, Any] = {"shipping_address": address}
    if payment_method.startswith("pm_"):
        body["payment_method"] = payment_method
    if cards:
        body["gift_cards"] = [card.code for card in cards]
    if billing:
        body["billing_address"] = billing
    if method := field(form, "shipping_method", 40):
        body["shipping_method"] = method
    if guest := is_guest(request):
        body["email"] = kept["values"].get("email", "")
        if "@" not in body["email"]:
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
        tenders.keep(request, [])  # spent on this order
        if guest:  # the order's page by its signed link (the guest has no account to sign in to)
            return redirect(local_path(response.json()["order_url"]))
        if kept["address_id"] == "new" and kept["save_address"]:
            await shopper.send("account", "POST", "/api/v1/me/addresses", json=address)
        return redirect(f"/orders/{response.json()['id']}")
    if (refused := tenders.refused(response, cards)) is not None:
        tenders.keep(request, [card for card in cards if card not in refused[1]])
        return await checkout_page(request, shopper, 422, **kept, error=refused[0])
    error, errors = refusal(response)
    return await checkout_page(request, shopper, response.status_code, **kept, errors=errors, error=error)


router.include_router(posts)
