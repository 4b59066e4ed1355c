"""Gift cards' use cases besides paying (tender.py): issuing — by staff, or bought in an order — the
public balance, the code for the e-mail that sends it, and the back office's views and disabling."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import GiftCardIssued, OrderPlaced
from mercato.contracts.money import Money
from mercato.platform.db import Database
from mercato.platform.errors import NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.payments.giftcards import codes
from mercato.services.payments.giftcards import repository as repo
from mercato.services.payments.giftcards.models import GiftCard
from mercato.services.payments.giftcards.schemas import (
    MAX_AMOUNT,
    GiftCardBalanceOut,
    GiftCardCodeOut,
    GiftCardDetailOut,
    GiftCardIssueIn,
    GiftCardOut,
    IssuedGiftCardOut,
    LedgerEntryOut,
)

GIFT_CARD_KIND = "gift_card"


def _new_card(card_id: str, amount: Money, now: datetime, **fields: object) -> tuple[GiftCard, str]:
    code = codes.new_code()
    card = GiftCard(
        id=card_id,
        code=code,
        code_hash=codes.code_hash(code),
        last4=code[-4:],
        currency=amount.currency,
        balance=amount.amount,
        initial=amount.amount,
        state="active",
        created_at=now,
        **fields,
    )
    return card, code


async def _issued(
    session: AsyncSession, card: GiftCard, *, customer_id: str | None, email: str | None
) -> None:
    await repo.append(
        session,
        [
            repo.entry(
                card.id,
                "issued",
                card.initial,
                card.initial,
                card.created_at,
                order_id=card.order_id,
                staff_id=card.issued_by,
            )
        ],
    )
    await record_event(
        session,
        GiftCardIssued(
            gift_card_id=card.id,
            last4=card.last4,
            balance=Money(amount=card.initial, currency=card.currency),
            order_id=card.order_id,
            customer_id=customer_id,
            email=email,
            expires_at=card.expires_at,
            issued_at=card.created_at,
        ),
        aggregate_id=card.id,
    )


async def issue_by_staff(db: Database, staff: Staff, data: GiftCardIssueIn) -> IssuedGiftCardOut:
    """A new card with `data.amount` on it; its code is in this answer only. Audited."""
    now = datetime.now(UTC)
    if not 1 <= data.amount.amount <= MAX_AMOUNT:
        raise UnprocessableEntity(
            "A gift card holds at least 1 and at most 1000000 minor units.",
            errors={"amount.amount": f"must be between 1 and {MAX_AMOUNT}"},
        )
    if data.expires_at is not None and data.expires_at <= now:
        raise UnprocessableEntity(
            "A gift card cannot expire in the past.", errors={"expires_at": "is in the past"}
        )
    card, code = _new_card(
        new_id("gft"), data.amount, now, expires_at=data.expires_at, issued_by=staff.id, note=data.note
    )
    async with db.unit_of_work() as session:
        await repo.add(session, card)
        await _issued(session, card, customer_id=None, email=data.recipient_email)
        await record_staff_action(
            session,
            staff,
            "gift_card.issue",
            service="payments",
            target_type="gift_card",
            target_id=card.id,
            details={
                "amount": card.initial,
                "currency": card.currency,
                "last4": card.last4,
                "emailed": data.recipient_email is not None,
            },
        )
    return IssuedGiftCardOut(**_out(card).model_dump(), code=codes.shown(code))


def purchased_id(order_id: str, sku: str, n: int) -> str:
    """The same id for the n-th card of an order's line, however often it is issued."""
    digest = hashlib.sha256(f"{order_id}\x00{sku}\x00{n}".encode()).digest()
    return "gft_" + "".join(codes.ALPHABET[byte % 32] for byte in digest[:26])


async def issue_bought(session: AsyncSession, event: OrderPlaced) -> int:
    """One card per unit of each gift-card line of a placed order, holding the unit price paid; mailed
    (by notifications) to the guest's address or the customer's. Returns how many were issued now."""
    now = datetime.now(UTC)
    issued = 0
    for line in event.lines:
        if line.kind != GIFT_CARD_KIND:
            continue
        for n in range(1, line.quantity + 1):
            card, _ = _new_card(
                purchased_id(event.order_id, line.sku, n),
                line.unit_price,
                now,
                order_id=event.order_id,
                sku=line.sku,
                n=n,
            )
            if await repo.add(session, card):
                await _issued(session, card, customer_id=event.customer_id, email=event.email)
                issued += 1
    return issued


def state_of(card: GiftCard, now: datetime) -> str:
    if card.state != "active":
        return card.state
    return "expired" if card.expires_at is not None and card.expires_at <= now else "active"


async def balance(db: Database, typed: str) -> GiftCardBalanceOut:
    """The balance of the card with this code; 404 otherwise. The same work either way (a code that
    cannot be one is looked up as an unusable hash), and the hash compared in constant time."""
    code = codes.normalise(typed)
    wanted = codes.code_hash(code) if code else codes.UNUSABLE_HASH
    async with db.read() as session:
        card = await repo.by_hash(session, wanted)
    if card is None or not hmac.compare_digest(card.code_hash, wanted):
        raise NotFound("There is no gift card with this code.")
    return GiftCardBalanceOut(
        last4=card.last4,
        balance=Money(amount=card.balance, currency=card.currency),
        expires_at=card.expires_at,
        state=state_of(card, datetime.now(UTC)),  # type: ignore[arg-type]
    )


async def _card(session: AsyncSession, card_id: str) -> GiftCard:
    card = await repo.by_id(session, card_id)
    if card is None:
        raise NotFound("There is no such gift card.")
    return card


async def code_of(db: Database, card_id: str) -> GiftCardCodeOut:
    async with db.read() as session:
        card = await _card(session, card_id)
    return GiftCardCodeOut(
        id=card.id,
        code=codes.shown(card.code),
        last4=card.last4,
        balance=Money(amount=card.balance, currency=card.currency),
        expires_at=card.expires_at,
    )


def _out(card: GiftCard) -> GiftCardOut:
    return GiftCardOut(
        id=card.id,
        last4=card.last4,
        balance=Money(amount=card.balance, currency=card.currency),
        initial=Money(amount=card.initial, currency=card.currency),
        state=card.state,  # type: ignore[arg-type]
        expires_at=card.expires_at,
        order_id=card.order_id,
        issued_by=card.issued_by,
        note=card.note,
        created_at=card.created_at,
    )


async def staff_cards(
    db: Database, *, last4: str | None, before: str | None, limit: int
) -> list[GiftCardOut]:
    async with db.read() as session:
        found = await repo.cards(session, last4=last4.upper() if last4 else None, before=before, limit=limit)
    return [_out(card) for card in found]


async def staff_card(db: Database, card_id: str) -> GiftCardDetailOut:
    async with db.read() as session:
        card = await _card(session, card_id)
        entries = await repo.entries_of(session, card_id)
    return GiftCardDetailOut(
        **_out(card).model_dump(),
        entries=[
            LedgerEntryOut(
                id=e.id,
                kind=e.kind,  # type: ignore[arg-type]
                order_id=e.order_id,
                amount=e.amount,
                balance_after=e.balance_after,
                staff_id=e.staff_id,
                at=e.at,
            )
            for e in entries
        ],
    )


async def disable(db: Database, staff: Staff, card_id: str) -> GiftCardDetailOut:
    """The card pays no more (its balance stays, on the ledger). Audited; disabling twice changes nothing."""
    async with db.unit_of_work() as session:
        card = await _card(session, card_id)
        if card.state != "disabled":
            await repo.set_state(session, card_id, "disabled")
            await record_staff_action(
                session,
                staff,
                "gift_card.disable",
                service="payments",
                target_type="gift_card",
                target_id=card_id,
                details={"last4": card.last4, "balance": card.balance, "currency": card.currency},
            )
    return await staff_card(db, card_id)
