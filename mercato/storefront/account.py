"""The shopper's account: profile, address book, communication opt-ins, password, "sign out everywhere",
"download my data" and "delete my account". Thin like shop.py: forms in, one gateway call each, a
redirect or the page again."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront.gateway import NotFound
from mercato.storefront.session import Shopper
from mercato.storefront.shop import ADDRESS_ID, csrf, field, private, problem, redirect
from mercato.storefront.web import gw, render, shopper_of
from mercato.webkit import forms

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

# One-time confirmations, chosen by a fixed key in the redirect so nothing the URL says is echoed back.
DONE = {
    "profile": "Your details are saved.",
    "opt-ins": "Your communication choices are saved.",
    "address-added": "The address is in your address book.",
    "address-removed": "The address was removed.",
    "password": "Your password is changed, and every other device is signed out.",
}
CHANNELS = ("email", "sms", "push")
PROFILE_MESSAGES = {
    "name": "Please enter your name.",
    "phone": "Please enter a mobile number in international format, e.g. +49 30 1234567.",
}
PASSWORD_MESSAGES = {
    "current_password": "That isn't your current password.",
    "new_password": "Please choose at least 10 characters, not a common password nor your e-mail address.",
}
ORDER_PAGES = 100  # at most 10,000 orders in one export; a shopper with more can ask support


async def account_page(
    request: Request, shopper: Shopper, status_code: int = 200, **context: Any
) -> Response:
    me = await shopper.send("account", "GET", "/api/v1/me")
    book = await shopper.send("account", "GET", "/api/v1/me/addresses", params={"limit": 50})
    for name in ("values", "errors", "address", "address_errors"):
        context.setdefault(name, {})
    return private(
        render(
            request,
            "account.jinja",
            status_code,
            me=me.json(),
            addresses=book.json().get("data", []) if book.status_code == 200 else [],
            done=DONE.get(request.query_params.get("done", "")),
            **context,
        )
    )


def field_errors(response: Any, messages: dict[str, str]) -> dict[str, str]:
    """The API's refusal, field by field, in our words (never its validator's)."""
    return forms.human_errors(problem(response).get("errors"), messages, "Please check this form.")


@router.get("/account")
async def account(request: Request) -> Response:
    return await account_page(request, shopper_of(request))


@posts.post("/account/profile")
async def update_profile(request: Request) -> Response:
    form = await request.form()
    shopper = shopper_of(request)
    values = {"name": field(form, "name", 200), "phone": field(form, "phone", 40)}
    phone = re.sub(r"[\s().-]", "", values["phone"])  # people write "+49 (30) 123-4567"; the API wants E.164
    body: dict[str, Any] = {"name": values["name"], "phone": phone or None}
    response = await shopper.send("account", "PATCH", "/api/v1/me", json=body)
    if response.status_code != 200:
        return await account_page(
            request,
            shopper,
            422,
            values=values,
            errors=field_errors(response, PROFILE_MESSAGES),
            error="Please check your details.",
        )
    return redirect("/account?done=profile")


@posts.post("/account/opt-ins")
async def update_opt_ins(request: Request) -> Response:
    form = await request.form()
    body = {
        "communication": {channel: form.get(channel) == "on" for channel in CHANNELS},
        "preferences": {"newsletter": form.get("newsletter") == "on"},
    }
    shopper = shopper_of(request)
    response = await shopper.send("account", "PATCH", "/api/v1/me", json=body)
    if response.status_code != 200:
        return await account_page(request, shopper, 422, error="Sorry, we couldn't save your choices.")
    return redirect("/account?done=opt-ins")


@posts.post("/account/addresses")
async def add_address(request: Request) -> Response:
    form = await request.form()
    shopper = shopper_of(request)
    values: dict[str, Any] = forms.read_address(form)
    values["is_default"] = form.get("is_default") == "on"
    errors = forms.address_errors(values)
    if not errors:
        body = forms.address_body(values) | {"is_default": values["is_default"]}
        response = await shopper.send("account", "POST", "/api/v1/me/addresses", json=body)
        if response.status_code == 201:
            return redirect("/account?done=address-added#addresses")
        errors = field_errors(response, forms.ADDRESS_MESSAGES) or {"": "Please check this form."}
    return await account_page(
        request, shopper, 422, address=values, address_errors=errors, error="Please check the address."
    )


@posts.post("/account/addresses/{address_id}/delete")
async def delete_address(request: Request, address_id: str) -> Response:
    if not ADDRESS_ID.match(address_id):
        raise NotFound("account", address_id)
    response = await shopper_of(request).send("account", "DELETE", f"/api/v1/me/addresses/{address_id}")
    if response.status_code not in (204, 404):  # already gone is what the shopper wanted
        raise NotFound("account", address_id)
    return redirect("/account?done=address-removed#addresses")


@posts.post("/account/password")
async def change_password(request: Request) -> Response:
    """The API ends every session on a password change, this one too; the shop signs the shopper in
    again with the new password, so only the other devices are signed out."""
    form = await request.form()
    shopper = shopper_of(request)
    current, new = field(form, "current_password"), field(form, "new_password")
    me = (await shopper.send("account", "GET", "/api/v1/me")).json()
    response = await shopper.send(
        "account", "POST", "/api/v1/me/password", json={"current_password": current, "new_password": new}
    )
    if response.status_code != 204:
        errors = field_errors(response, PASSWORD_MESSAGES)
        if response.status_code == 403:
            errors = {"current_password": PASSWORD_MESSAGES["current_password"]}
        return await account_page(
            request,
            shopper,
            422,
            password_errors=errors,
            password_error="Your password is unchanged.",  # noqa: S106 - a message
        )
    tokens = await gw(request).send(
        "account", "POST", "/api/v1/auth/token", json={"email": me["email"], "password": new}
    )
    if tokens.status_code != 200:
        request.state.clear_tokens = True
        return redirect("/login?next=/account")
    request.state.new_tokens = tokens.json()
    return redirect("/account?done=password#security")


@posts.post("/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request) -> Response:
    """Every session of the account ends: phones, other browsers and this one."""
    response = await shopper_of(request).send("account", "POST", "/api/v1/auth/logout-all")
    if response.status_code != 204:
        return await account_page(
            request, shopper_of(request), 503, error="Sorry, we couldn't sign you out everywhere; try again."
        )
    request.state.clear_tokens = True
    return private(render(request, "signed-out.jinja"))


@router.get("/account/export")
async def export(request: Request) -> Response:
    """Everything the shop holds about the shopper, as one JSON download (GDPR Art. 20): the account as
    customers exports it, and the full order history with each order's detail."""
    shopper = shopper_of(request)
    account_data = await shopper.send("account", "GET", "/api/v1/me/export")
    orders: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(ORDER_PAGES):
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        listing = await shopper.send("orders", "GET", "/api/v1/orders", params=params)
        if listing.status_code != 200:
            break
        page = listing.json()
        for summary in page["data"]:
            detail = await shopper.send("orders", "GET", f"/api/v1/orders/{summary['id']}")
            orders.append(detail.json() if detail.status_code == 200 else summary)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    document = {
        "exported_at": datetime.now(UTC).isoformat(),
        "account": account_data.json(),
        "orders": orders,
    }
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return private(
        Response(
            json.dumps(document, indent=2, ensure_ascii=False),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="mercato-my-data-{stamp}.json"'},
        )
    )


@posts.post("/account/delete")
async def delete_account(request: Request) -> Response:
    """Closing the account is final, so the shopper confirms it with their password."""
    form = await request.form()
    shopper = shopper_of(request)
    me = (await shopper.send("account", "GET", "/api/v1/me")).json()
    check = await gw(request).send(
        "account",
        "POST",
        "/api/v1/auth/token",
        json={"email": me["email"], "password": field(form, "password")},
    )
    if check.status_code != 200:
        return await account_page(
            request,
            shopper,
            403,
            delete_error="That password isn't right, so your account is still open.",
        )
    response = await shopper.send("account", "DELETE", "/api/v1/me")
    if response.status_code != 204:
        return await account_page(
            request, shopper, 409, delete_error="Sorry, we couldn't close your account."
        )
    request.state.clear_tokens = True
    return private(render(request, "goodbye.jinja"))


router.include_router(posts)
