"""Paying with gift cards, the tender beside the card (docs/gift-cards.md).

A payment that names gift cards debits them in the order given, each `min(balance, what is left)`, in
the transaction that claims the order's payment (service.pay): so a retry for the same order finds the
debits made and never makes them twice. Each debit is a conditional UPDATE on the balance the payment
read; if another payment changed it meanwhile, the balance is read again — two orders racing for one
card never take more than it holds (and the database refuses a negative balance besides). Anything
wrong with a card is a 422 before any debit commits.

The payment row keeps what each card paid (`payments.gift_cards`); the card pays the rest. If the card
is declined (or the payment voided before capture), the debits are given back (ledger `reversed`);
refunds go to the gift cards first, in the order they paid, then to the card (ledger `refunded`).
GiftCardRedeemed is published per card once the payment succeeded, in that transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import GiftCardRedeemed
from mercato.contracts.money import Money
from mercato.platform.errors import UnprocessableEntity
from mercato.platform.outbox import record_event
from mercato.services.payments import repository as payments_repo
from mercato.services.payments.giftcards import codes
from mercato.services.payments.giftcards import repository as repo
from mercato.services.payments.giftcards.models import GiftCard
from mercato.services.payments.models import Payment
from mercato.services.payments.provider import MINIMUM_CHARGE, outside_charge_limits
from mercato.services.payments.schemas import TenderOut

Tender = dict[str, Any]  # {gift_card_id, last4, amount, refunded, balance, reversed}


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency}"


def unusable(card: GiftCard | None, currency: str, now: datetime) -> tuple[str, str] | None:
    """Why a card cannot pay an order in `currency`: (slug, sentence), or None when it can."""
    if card is None:
        return "unknown", "is not a gift card code we know"
    if card.state != "active":
        return "disabled", "is disabled"
    if card.expires_at is not None and card.expires_at <= now:
        return "expired", f"expired on {card.expires_at:%Y-%m-%d}"
    if card.currency != currency:
        return "wrong-currency", f"is in {card.currency}; this order is in {currency}"
    if card.balance == 0:
        return "empty", "has no balance left"
    return None


async def _cards(session: AsyncSession, typed: list[str], currency: str, now: datetime) -> list[GiftCard]:
    """The cards of the codes, in order; a 422 naming every code that cannot pay."""
    normal = [codes.normalise(code) for code in typed]
    hashes = [codes.code_hash(code) if code else codes.UNUSABLE_HASH for code in normal]
    found = await repo.by_hashes(session, sorted(set(hashes)))
    cards, errors, reasons, seen = [], {}, {}, set()
    for i, code_hash in enumerate(hashes):
        card = found.get(code_hash)
        why = unusable(card, currency, now)
        if why is None and code_hash in seen:
            why = ("repeated", "is entered twice")
        seen.add(code_hash)
        if why:
            reasons[f"gift_cards[{i}]"], errors[f"gift_cards[{i}]"] = why
        else:
            assert card is not None
            cards.append(card)
    if errors:
        raise UnprocessableEntity(
            "A gift card cannot pay for this order: "
            + "; ".join(f"{k} {v}" for k, v in errors.items())
            + ".",
            slug="gift-card-invalid",
            errors=errors,
            reasons=reasons,
        )
    return cards


async def debit(
    session: AsyncSession, order_id: str, typed: list[str], *, payment_method: str | None, now: datetime
) -> Payment:
    """Debit the gift cards for the order's payment, just claimed in this transaction; the payment, with
    what each card paid. Raises (rolling everything back) when a card cannot pay, when the rest needs a
    card and there is none, or when the rest is more than the provider can charge."""
    payment = await payments_repo.payment_for_order(session, order_id)
    assert payment is not None
    cards = await _cards(session, typed, payment.currency, now)
    budget = payment.amount
    minimum = MINIMUM_CHARGE.get(payment.currency, 1)
    short = payment.amount - sum(card.balance for card in cards)
    if payment_method and 0 < short < minimum:
        # The card could not be charged so little: leave that much on the gift cards, charge the minimum.
        budget = max(0, payment.amount - minimum)
    tenders: list[Tender] = []
    entries = []
    for card in cards:
        if budget == 0:
            break
        taken, balance = await _take(session, card, budget)
        if taken == 0:
            continue
        budget -= taken
        tenders.append(
            {
                "gift_card_id": card.id,
                "last4": card.last4,
                "amount": taken,
                "refunded": 0,
                "balance": balance,
                "reversed": False,
            }
        )
        entries.append(repo.entry(card.id, "redeemed", -taken, balance, now, order_id=order_id))
    await repo.append(session, entries)
    payment.gift_cards = tenders
    rest = card_amount(payment)
    if rest > 0 and not payment_method:
        paid, total = (
            _money(payment.amount - rest, payment.currency),
            _money(payment.amount, payment.currency),
        )
        raise UnprocessableEntity(
            f"The gift cards pay {paid} of {total}; a card is needed for the rest.",
            errors={
                "payment_method": f"is needed for the {_money(rest, payment.currency)} the gift cards leave"
            },
        )
    if rest > 0 and (problem := outside_charge_limits(rest, payment.currency)):
        raise UnprocessableEntity(
            "The payment provider cannot charge what the gift cards leave.", errors={"amount.amount": problem}
        )
    return payment


async def _take(session: AsyncSession, card: GiftCard, budget: int) -> tuple[int, int]:
    """(taken, balance after): min(balance, budget), against the balance as it is when the UPDATE runs."""
    balance = card.balance
    while True:
        taken = min(balance, budget)
        if taken == 0:
            return 0, balance
        after = await repo.take(session, card.id, taken, seen=balance)
        if after is not None:
            return taken, after
        balance = await repo.balance_of(session, card.id)  # another payment took some meanwhile


def gift_cards_of(payment: Payment) -> list[Tender]:
    return [dict(tender) for tender in payment.gift_cards or []]


def gift_total(payment: Payment) -> int:
    """What the gift cards paid (given back or not: the card was only ever asked for the rest)."""
    return sum(tender["amount"] for tender in payment.gift_cards or [])


def gift_refunded(payment: Payment) -> int:
    return sum(tender["refunded"] for tender in payment.gift_cards or [])


def card_amount(payment: Payment) -> int:
    """What the card is charged: the amount less what the gift cards paid."""
    return payment.amount - gift_total(payment)


async def redeemed(session: AsyncSession, payment: Payment, now: datetime) -> None:
    """The payment succeeded: GiftCardRedeemed per card, in this transaction."""
    for tender in payment.gift_cards or []:
        await record_event(
            session,
            GiftCardRedeemed(
                gift_card_id=tender["gift_card_id"],
                order_id=payment.order_id,
                amount=Money(amount=tender["amount"], currency=payment.currency),
                balance=Money(amount=tender["balance"], currency=payment.currency),
                redeemed_at=now,
            ),
            aggregate_id=tender["gift_card_id"],
        )


async def reverse(session: AsyncSession, payment: Payment, now: datetime) -> None:
    """The payment failed (declined, refused, voided before capture): give every debit back."""
    tenders = gift_cards_of(payment)
    entries = []
    for tender in tenders:
        left = tender["amount"] - tender["refunded"]
        if tender["reversed"] or left == 0:
            continue
        balance = await repo.give_back(session, tender["gift_card_id"], left)
        entries.append(
            repo.entry(tender["gift_card_id"], "reversed", left, balance, now, order_id=payment.order_id)
        )
        tender["reversed"] = True
    await repo.append(session, entries)
    payment.gift_cards = tenders


def split_refund(payment: Payment, amount: int) -> tuple[list[int], int]:
    """A refund of `amount`: what goes back to each gift card (in the order they paid), and the card's."""
    parts = []
    left = amount
    for tender in payment.gift_cards or []:
        part = 0 if tender["reversed"] else min(left, tender["amount"] - tender["refunded"])
        parts.append(part)
        left -= part
    return parts, left


async def refund(
    session: AsyncSession, payment: Payment, parts: list[int], now: datetime, *, kind: str = "refunded"
) -> None:
    """Put the gift cards' parts of a refund back on them (`kind` "reversed" when a failed checkout is
    undone)."""
    tenders = gift_cards_of(payment)
    entries = []
    for tender, part in zip(tenders, parts, strict=False):
        if part <= 0:
            continue
        balance = await repo.give_back(session, tender["gift_card_id"], part)
        entries.append(
            repo.entry(tender["gift_card_id"], kind, part, balance, now, order_id=payment.order_id)
        )
        tender["refunded"] += part
    await repo.append(session, entries)
    payment.gift_cards = tenders


def tenders_out(payment: Payment) -> list[TenderOut]:
    """How the payment was made: the gift cards that paid (in order), then the card for the rest."""

    def money(amount: int) -> Money:
        return Money(amount=amount, currency=payment.currency)

    out = [
        TenderOut(
            kind="gift_card",
            gift_card_id=tender["gift_card_id"],
            last4=tender["last4"],
            amount=money(tender["amount"]),
            refunded=money(tender["refunded"]),
        )
        for tender in payment.gift_cards or []
        if not tender["reversed"]
    ]
    if (rest := card_amount(payment)) > 0:
        refunded = max(0, payment.refunded_amount - gift_refunded(payment))
        out.append(
            TenderOut(kind="card", last4=payment.card_last4, amount=money(rest), refunded=money(refunded))
        )
    return out
