"""A gift card at checkout (docs/gift-cards.md): its code typed in the checkout form and "Apply" pressed
(the whole form comes along, so nothing typed is lost); the storefront asks payments for its balance
(GET /api/v1/gift-cards/{code}) and keeps it with the others (`mercato.storefront.tenders`), and the page
comes back showing what each card pays and what is left to pay by card. The codes go to checkout in its
body (`gift_cards`); a card's Remove button takes it off again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront import checkout, tenders
from mercato.storefront.gateway import Unavailable
from mercato.storefront.guest import send_cart
from mercato.storefront.shop import csrf, field
from mercato.storefront.web import gw, shopper_of

router = APIRouter(dependencies=[Depends(csrf)])
STATES = {
    "expired": "This gift card has expired.",
    "disabled": "This gift card can no longer be used. Please contact us if you think that's wrong.",
}


async def _currency(request: Request) -> str | None:
    answer = await send_cart(request, "GET", "/api/v1/cart")
    if answer is None or answer.status_code != 200:
        return None
    return answer.json()["market"]["currency"]


async def _look_up(request: Request, code: str) -> tuple[tenders.Held | None, str | None]:
    """The card, or why it can't be used."""
    if not tenders.CODE.match(code):
        return None, "A gift card code has 16 letters and digits, like XXXX-XXXX-XXXX-XXXX."
    try:
        response = await gw(request).send("payments", "GET", f"/api/v1/gift-cards/{code}")
    except Unavailable as exc:
        if exc.detail == "HTTP 429":  # payments' guard against guessing codes
            return None, "Too many gift card codes tried: please wait a minute, then try again."
        return None, "We can't check gift cards right now. Please try again in a minute."
    if response.status_code != 200:
        return None, "We don't know this gift card code. Please check it."
    card: dict[str, Any] = response.json()
    if card.get("state") in STATES:
        return None, STATES[card["state"]]
    balance = card["balance"]
    if not balance.get("amount"):
        return None, "This gift card has been used up: its balance is 0."
    currency = await _currency(request)
    if currency and balance["currency"] != currency:
        return None, f"This gift card is in {balance['currency']}, and your order is in {currency}."
    return tenders.Held(code=code, last4=card["last4"], balance=balance), None


@router.post("/checkout/gift-cards")
async def gift_cards(request: Request) -> Response:
    form = await request.form()
    shopper = shopper_of(request)
    kept, _, _, _ = await checkout.read_addresses(shopper, form)
    kept = {name: value for name, value in kept.items() if not name.endswith("errors")}  # not yet checked
    cards, error = tenders.held(request), None
    if removed := field(form, "gift_card_remove", 8):
        tenders.keep(request, [card for card in cards if card.last4 != removed])
    elif code := tenders.normalise(field(form, "gift_card_code", 40)):
        if any(card.code == code for card in cards):
            error = "This gift card is already applied."
        elif len(cards) >= tenders.MAX_CARDS:
            error = f"At most {tenders.MAX_CARDS} gift cards can pay for one order."
        else:
            card, error = await _look_up(request, code)
            if card is not None:
                tenders.keep(request, [*cards, card])
    else:
        error = "Please enter the gift card's code."
    return await checkout.checkout_page(request, shopper, 422 if error else 200, **kept, gift_error=error)
