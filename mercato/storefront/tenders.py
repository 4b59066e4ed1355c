"""The gift cards a shopper has added at checkout, until the order is placed: kept in an HttpOnly cookie,
encrypted and authenticated with a key derived from the session secret (a code is a bearer secret, so
not even the shopper's own cookie jar holds it in the clear), with each card's balance as payments
answered when it was added (GET /api/v1/gift-cards/{code}, asked once per card: that route is
rate-limited against guessing). What the page shows of the split is that balance against orders' total;
what is really taken is payments' to decide at checkout (each card min(balance, rest), in order, the
rest by card), and the order's page shows that."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response

from mercato.storefront.web import settings

COOKIE = "mercato_gift_cards"
MAX_CARDS = 5  # as many as checkout takes
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{16}$")  # 16 of Crockford base32, shown XXXX-XXXX-XXXX-XXXX
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_KEY = AESGCM(
    hashlib.sha256(
        b"mercato-storefront-gift-cards\0" + settings.session_secret.get_secret_value().encode()
    ).digest()
)


@dataclass(frozen=True)
class Held:
    code: str
    last4: str
    balance: dict[str, Any]  # Money


def normalise(text: str) -> str:
    """As payments reads a code: upper case, without the dashes and spaces it is shown with, Crockford's
    look-alikes read as the digits they resemble (O → 0, I and L → 1)."""
    return re.sub(r"[\s-]+", "", text).upper().translate(_LOOK_ALIKES)


def held(request: Request) -> list[Held]:
    """The cards this request sees: as changed by it, else as the cookie has them (none if tampered)."""
    changed = getattr(request.state, "gift_cards", None)
    if changed is not None:
        return changed
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        entries = json.loads(_KEY.decrypt(blob[:12], blob[12:], COOKIE.encode()))
        return [Held(e["code"], e["last4"], e["balance"]) for e in entries][:MAX_CARDS]
    except (InvalidTag, ValueError, KeyError, TypeError):
        return []


def keep(request: Request, cards: list[Held]) -> None:
    request.state.gift_cards = cards[:MAX_CARDS]


def write_cookie(request: Request, response: Response) -> None:
    """What this request changed of the held cards (the app's middleware calls it)."""
    cards = getattr(request.state, "gift_cards", None)
    if cards is None:
        return
    options = {"httponly": True, "samesite": "lax", "secure": request.url.scheme == "https", "path": "/"}
    if not cards:
        response.delete_cookie(COOKIE, **options)
        return
    nonce = os.urandom(12)
    plain = json.dumps([{"code": c.code, "last4": c.last4, "balance": c.balance} for c in cards]).encode()
    blob = nonce + _KEY.encrypt(nonce, plain, COOKIE.encode())
    response.set_cookie(COOKIE, base64.urlsafe_b64encode(blob).rstrip(b"=").decode(), **options)


def split(cards: list[Held], total: dict[str, Any] | None) -> dict[str, Any]:
    """What each card would pay of `total` (in order, each as much of the rest as its balance), and
    what is left for the card; `covered` when nothing is."""
    if not total:
        return {"cards": [], "by_card": None, "covered": False}
    rest, shown = int(total["amount"]), []
    for card in cards:
        same = card.balance.get("currency") == total["currency"]
        applied = min(int(card.balance.get("amount", 0)), rest) if same else 0
        rest -= applied
        shown.append({"last4": card.last4, "balance": card.balance, "applied": money(applied, total)})
    return {"cards": shown, "by_card": money(rest, total), "covered": bool(cards) and rest == 0}


def money(amount: int, like: dict[str, Any]) -> dict[str, Any]:
    return {"amount": amount, "currency": like["currency"]}


REASONS = {
    "unknown": "we don't know this code",
    "empty": "its balance is used up",
    "wrong-currency": "it is in another currency",
    "expired": "it has expired",
    "disabled": "it can no longer be used",
}


def refused(response: Any, cards: list[Held]) -> tuple[str, list[Held]] | None:
    """Checkout's 422 `gift-card-invalid` (`errors: {"gift_cards[i]": reason}`): what to tell the
    shopper, and the cards it names (taken off); None for any other answer."""
    if response.status_code != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not str(body.get("type", "")).endswith("gift-card-invalid"):
        return None
    named: list[tuple[Held, str]] = []
    for key, reason in (body.get("errors") or {}).items():
        index = key.removeprefix("gift_cards[").removesuffix("]")
        if index.isdigit() and int(index) < len(cards):
            named.append((cards[int(index)], REASONS.get(str(reason), str(reason))))
    said = "; ".join(f"the gift card ••••{card.last4} can't be used: {why}" for card, why in named)
    message = f"Sorry, {said or 'a gift card can no longer be used'}. We took it off; nothing was charged."
    return message, [card for card, _ in named]
