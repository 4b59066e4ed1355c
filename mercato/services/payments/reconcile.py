"""Reconciliation: compare Mercato's payment records with what the provider holds, and report every
difference — money taken that no order knows of, captures or refunds recorded on one side only.

Run it daily (`mercato payments reconcile`), like a bank statement check; it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercato.platform.db import Database
from mercato.services.payments import repository as repo
from mercato.services.payments.giftcards import tender
from mercato.services.payments.provider import Provider
from mercato.services.payments.service import PaymentStatus

EXPECTED_PROVIDER_STATUS = {
    PaymentStatus.AUTHORISED: {"requires_capture"},
    PaymentStatus.CAPTURED: {"succeeded"},
    PaymentStatus.PARTIALLY_REFUNDED: {"succeeded"},
    PaymentStatus.REFUNDED: {"succeeded"},
    PaymentStatus.VOIDED: {"canceled"},
    PaymentStatus.DECLINED: {"requires_payment_method", "canceled"},
}


@dataclass(frozen=True)
class Difference:
    order_id: str | None
    intent_id: str | None
    problem: str
    ours: str
    provider: str


async def reconcile(db: Database, provider: Provider) -> list[Difference]:
    async with db.read() as session:
        payments = await repo.all_payments(session)
    intents = {intent.id: intent for intent in await provider.all_intents()}
    differences: list[Difference] = []
    known_intents = set()
    for payment in payments:
        if payment.status == PaymentStatus.PENDING:
            differences.append(
                Difference(
                    payment.order_id,
                    payment.provider_intent_id,
                    "unresolved payment",
                    "pending",
                    "ask `resolve`",
                )
            )
            continue
        if payment.provider_intent_id is None:
            continue  # declined before the provider created an intent
        known_intents.add(payment.provider_intent_id)
        intent = intents.get(payment.provider_intent_id)
        if intent is None:
            differences.append(
                Difference(
                    payment.order_id,
                    payment.provider_intent_id,
                    "missing at the provider",
                    payment.status,
                    "-",
                )
            )
            continue
        if intent.status not in EXPECTED_PROVIDER_STATUS.get(PaymentStatus(payment.status), {intent.status}):
            differences.append(
                Difference(payment.order_id, intent.id, "status differs", payment.status, intent.status)
            )
        # (The provider holds the card's part only: what gift cards paid and got back is ours alone.)
        captured = max(0, payment.captured_amount - tender.gift_total(payment))
        if (intent.amount_received or 0) != captured:
            differences.append(
                Difference(
                    payment.order_id,
                    intent.id,
                    "captured amount differs",
                    str(captured),
                    str(intent.amount_received or 0),
                )
            )
        refunded = await provider.refunded_amount(intent.id) if intent.amount_received else 0
        card_refunded = payment.refunded_amount - tender.gift_refunded(payment)
        if refunded != card_refunded:
            differences.append(
                Difference(
                    payment.order_id,
                    intent.id,
                    "refunded amount differs",
                    str(card_refunded),
                    str(refunded),
                )
            )
    for intent in intents.values():
        if intent.id not in known_intents and (intent.amount_received or 0) > 0:
            order_id = (intent.metadata.to_dict() if intent.metadata else {}).get("order_id")
            if order_id is None or await _no_payment(db, order_id):
                differences.append(
                    Difference(
                        order_id,
                        intent.id,
                        "money taken that no payment records",
                        "-",
                        f"{intent.status}, {intent.amount_received} received",
                    )
                )
    return differences


async def _no_payment(db: Database, order_id: str) -> bool:
    async with db.read() as session:
        return await repo.payment_for_order(session, order_id) is None
