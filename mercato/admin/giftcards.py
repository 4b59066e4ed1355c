"""Support and operations: gift cards — issued by staff (the code shown once), found by their last four
characters, each with its ledger (issued, redeemed, refunded back, reversed), and disabled
(docs/gift-cards.md)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.operations import parse_amount
from mercato.admin.web import caller, field_errors, problem, render
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
LAST4 = re.compile(r"^[0-9A-Za-z]{4}$")
CURRENCIES = ("EUR", "GBP", "USD")
DONE = {"disabled": "The gift card is disabled: it can no longer pay for anything."}


async def cards_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    last4 = request.query_params.get("last4", "").strip().upper()[:4]
    found = None
    if last4:
        if LAST4.match(last4):
            response = checked(
                await caller(request).send(
                    "payments", "GET", "/admin/v1/gift-cards", params={"last4": last4}
                ),
                "payments",
            )
            found = response.json()["data"] if response.status_code == 200 else []
        else:
            context.setdefault("error", "Enter the last four characters of the code.")
    context.setdefault("values", {"currency": "EUR"})
    context.setdefault("errors", {})
    return render(
        request,
        "gift_cards.jinja",
        status_code,
        last4=last4,
        found=found,
        currencies=[(c, c) for c in CURRENCIES],
        **context,
    )


@router.get("/gift-cards")
async def gift_cards(request: Request) -> Response:
    return await cards_page(request)


@posts.post("/gift-cards")
async def issue(request: Request) -> Response:
    form = await request.form()
    names = ("amount", "currency", "recipient_email", "note", "expires_on")
    values = {name: field(form, name, 500) for name in names}
    cents = parse_amount(values["amount"])
    if cents is None:
        return await cards_page(
            request,
            422,
            values=values,
            errors={"amount": "Enter an amount like 50.00."},
            error="Please check the card.",
        )
    body: dict[str, Any] = {
        "amount": {"amount": cents, "currency": values["currency"] or "EUR"},
    }
    if values["note"]:
        body["note"] = values["note"][:200]
    if values["expires_on"]:  # the end of that day, UTC
        body["expires_at"] = f"{values['expires_on'][:10]}T23:59:59Z"
    if values["recipient_email"]:
        body["recipient_email"] = values["recipient_email"]
    response = checked(
        await caller(request).send("payments", "POST", "/admin/v1/gift-cards", json=body), "payments"
    )
    if response.status_code >= 400:
        errors = field_errors(response)
        if "expires_at" in errors:
            errors["expires_on"] = errors.pop("expires_at")
        return await cards_page(
            request,
            response.status_code,
            values=values,
            errors=errors,
            error=str(problem(response).get("detail") or "Please check the card."),
        )
    # The code is in this answer only: shown now, never again (payments keeps it encrypted).
    return await cards_page(request, 201, issued=response.json(), sent_to=values["recipient_email"])


async def _card(request: Request, card_id: str) -> dict[str, Any]:
    if not ID.match(card_id):
        raise NotFound("payments", card_id)
    return checked(
        await caller(request).send("payments", "GET", f"/admin/v1/gift-cards/{card_id}"), "payments"
    ).json()


@router.get("/gift-cards/{card_id}")
async def gift_card(request: Request, card_id: str) -> Response:
    return render(
        request,
        "gift_card.jinja",
        card=await _card(request, card_id),
        done=DONE.get(request.query_params.get("done", "")),
    )


@posts.post("/gift-cards/{card_id}/disable")
async def disable(request: Request, card_id: str) -> Response:
    if not ID.match(card_id):
        raise NotFound("payments", card_id)
    path = f"/admin/v1/gift-cards/{card_id}/disable"
    response = checked(await caller(request).send("payments", "POST", path), "payments")
    if response.status_code >= 400:
        return render(
            request,
            "gift_card.jinja",
            response.status_code,
            card=await _card(request, card_id),
            error=str(problem(response).get("detail") or "The card could not be disabled."),
        )
    return redirect(f"/gift-cards/{card_id}?done=disabled")


router.include_router(posts)
