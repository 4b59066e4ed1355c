"""Gift cards' routes: the public balance (its own small per-address rate limit at the gateway, against
guessing), the code for notifications (internal), and the back office's (support and operations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from mercato.platform.app import get_database
from mercato.platform.db import Database
from mercato.platform.pagination import Page, Paging
from mercato.platform.staff import Staff, requires
from mercato.services.payments.giftcards import cards
from mercato.services.payments.giftcards.schemas import (
    GiftCardBalanceOut,
    GiftCardCodeOut,
    GiftCardDetailOut,
    GiftCardId,
    GiftCardIssueIn,
    GiftCardOut,
    IssuedGiftCardOut,
)

public = APIRouter(prefix="/api/v1/gift-cards", tags=["gift cards"])
internal = APIRouter(prefix="/internal/gift-cards", tags=["internal (notifications → payments)"])
admin = APIRouter(prefix="/admin/v1/gift-cards", tags=["back office: gift cards"])

DB = Annotated[Database, Depends(get_database)]
StaffOfCards = Annotated[Staff, requires("support", "operations")]


@public.get(
    "/{code}",
    response_model=GiftCardBalanceOut,
    responses={404: {"description": "No gift card has this code"}, 429: {"description": "Too many tries"}},
)
async def gift_card_balance(
    code: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9 -]+$")],
    db: DB,
    response: Response,
) -> GiftCardBalanceOut:
    """What is left on a gift card: anyone with the code may ask (a few times a minute per address)."""
    response.headers["Cache-Control"] = "no-store"
    return await cards.balance(db, code)


@internal.get("/{card_id}/code", response_model=GiftCardCodeOut)
async def gift_card_code(card_id: GiftCardId, db: DB) -> GiftCardCodeOut:
    """The card's code, for the e-mail that sends it to its owner (notifications)."""
    return await cards.code_of(db, card_id)


@admin.post("", status_code=201, response_model=IssuedGiftCardOut)
async def issue_gift_card(body: GiftCardIssueIn, staff: StaffOfCards, db: DB) -> IssuedGiftCardOut:
    """Issue a card; its code is in this answer and never shown again (e-mailed to `recipient_email`
    when given). Audited."""
    return await cards.issue_by_staff(db, staff, body)


@admin.get("", response_model=Page[GiftCardOut])
async def gift_cards(
    staff: StaffOfCards,
    db: DB,
    paging: Paging,
    last4: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{4}$")] = None,
) -> Page[GiftCardOut]:
    """Cards newest first; `last4` finds one by the last four characters of its code."""
    rows = await cards.staff_cards(db, last4=last4, before=paging.position.get("before"), limit=paging.fetch)
    return paging.page(rows, lambda last: {"before": last.id})


@admin.get("/{card_id}", response_model=GiftCardDetailOut)
async def gift_card(card_id: GiftCardId, staff: StaffOfCards, db: DB) -> GiftCardDetailOut:
    """A card with its ledger: every change of its balance, and why."""
    return await cards.staff_card(db, card_id)


@admin.post("/{card_id}/disable", response_model=GiftCardDetailOut)
async def disable_gift_card(card_id: GiftCardId, staff: StaffOfCards, db: DB) -> GiftCardDetailOut:
    """The card pays no more. Audited."""
    return await cards.disable(db, staff, card_id)
