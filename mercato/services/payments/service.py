"""Payments use cases: authorise and capture, resolve after a crash, the back office's views (refunds, voids
and webhooks: refunds.py).

Provider calls happen between short transactions, never inside one: a database transaction is not
held open (on SQLite: the write lock) while the network is slow. The first transaction claims the
order's payment row; if we crash after that, `resolve` asks the provider what happened, using the
same idempotency key, and records it.

PaymentCaptured and PaymentRefunded are staged in the transaction that writes the `captured` or
`refunded` record, so the stream tells exactly the money movements the audit trail holds: once each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import stripe
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import PaymentCaptured
from mercato.contracts.money import Money
from mercato.platform.db import Database
from mercato.platform.errors import (
    Conflict,
    NotFound,
    PaymentRequired,
    ServiceUnavailable,
    UnprocessableEntity,
)
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.services.payments import repository as repo
from mercato.services.payments.giftcards import tender
from mercato.services.payments.models import Payment, PaymentRecord
from mercato.services.payments.provider import (
    Declined,
    Provider,
    ProviderUnavailable,
    Refused,
    outside_charge_limits,
)
from mercato.services.payments.schemas import (
    CardOut,
    PaymentIn,
    PaymentOut,
    RecordOut,
    StaffPaymentOut,
    TrailRecordOut,
)


class PaymentStatus(StrEnum):
    PENDING = "pending"  # claimed; the provider's answer is not recorded yet
    AUTHORISED = "authorised"
    CAPTURED = "captured"
    DECLINED = "declined"
    FAILED = "failed"  # the provider refused the request as invalid: nothing was charged
    VOIDED = "voided"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


SETTLED = {PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}


def payment_out(payment: Payment, records: list[PaymentRecord] | None = None) -> PaymentOut:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=payment.currency)

    return PaymentOut(
        id=payment.id,
        order_id=payment.order_id,
        status=payment.status,
        amount=money(payment.amount),
        captured=money(payment.captured_amount),
        refunded=money(payment.refunded_amount),
        card=CardOut(brand=payment.card_brand, last4=payment.card_last4),
        provider_intent_id=payment.provider_intent_id,
        decline_code=payment.decline_code,
        tenders=tender.tenders_out(payment),
        records=[RecordOut.model_validate(r) for r in records or []],
    )


def payment_record(
    payment: Payment,
    kind: str,
    amount: int,
    provider_ref: str | None,
    *,
    request_key: str | None = None,
    staff_id: str | None = None,
    **detail: Any,
) -> PaymentRecord:
    return PaymentRecord(
        request_key=request_key,
        staff_id=staff_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        provider_ref=provider_ref,
        detail=detail,
        created_at=datetime.now(UTC),
    )


# What a provider's refusal was about, by its code, as a field of the payment request.
_REFUSED_FIELD = {
    "amount_too_small": "amount.amount",
    "amount_too_large": "amount.amount",
    "parameter_invalid_integer": "amount.amount",  # the one integer a payment is created with
    "invalid_currency": "amount.currency",
}


def _refused(payment: Payment) -> UnprocessableEntity:
    code = payment.decline_code or "invalid_request"
    return UnprocessableEntity(
        f"The payment provider refused the payment ({code}); nothing was charged.",
        slug="payment-refused",
        decline_code=code,
        errors={_REFUSED_FIELD.get(code, "payment"): f"was refused by the payment provider ({code})"},
    )


def _declined(payment: Payment) -> PaymentRequired:
    return PaymentRequired(
        "The card was declined. Try another payment method.",
        decline_code=payment.decline_code,
        errors={"payment_method": f"was declined ({payment.decline_code})"},
    )


async def load_payment(db: Database, order_id: str) -> Payment:
    async with db.read() as session:
        payment = await repo.payment_for_order(session, order_id)
    if payment is None:
        raise NotFound("This order has no payment.")
    return payment


def _card_of(intent: stripe.PaymentIntent) -> Any:
    method = intent.payment_method  # expanded only in the authorise call's answer
    return None if method is None or isinstance(method, str) else getattr(method, "card", None)


async def apply_intent(
    db: Database, order_id: str, intent: stripe.PaymentIntent, card: Any = None
) -> Payment:
    """Record what the provider says happened to the order's intent (idempotent)."""
    card = card or _card_of(intent)
    async with db.unit_of_work() as session:
        payment = await repo.payment_for_order(session, order_id)
        assert payment is not None
        records, captured = [], False
        if payment.status == PaymentStatus.PENDING:
            payment.provider_intent_id = intent.id
            payment.card_brand = getattr(card, "brand", None)
            payment.card_last4 = getattr(card, "last4", None)
            records.append(payment_record(payment, "intent_created", intent.amount, intent.id))
            if intent.status in ("requires_capture", "succeeded"):
                records.append(payment_record(payment, "authorised", intent.amount, intent.id))
                payment.status = PaymentStatus.AUTHORISED
        if intent.status == "succeeded" and payment.status == PaymentStatus.AUTHORISED:
            payment.captured_amount = tender.gift_total(payment) + intent.amount_received
            payment.status = PaymentStatus.CAPTURED
            records.append(payment_record(payment, "captured", intent.amount_received, _charge_id(intent)))
            captured = True
        if intent.status == "canceled" and payment.status in (
            PaymentStatus.AUTHORISED,
            PaymentStatus.PENDING,
        ):
            payment.status = PaymentStatus.VOIDED
            records.append(payment_record(payment, "voided", intent.amount, intent.id))
            await tender.reverse(session, payment, datetime.now(UTC))
        if records:
            payment.updated_at = datetime.now(UTC)
            await repo.append_records(session, records)
        if captured:
            await _record_captured(session, payment)
        return payment


async def _record_captured(session: AsyncSession, payment: Payment) -> None:
    """The payment succeeded: PaymentCaptured, and GiftCardRedeemed for each gift card that paid."""
    await record_event(
        session,
        PaymentCaptured(
            payment_id=payment.id,
            order_id=payment.order_id,
            customer_id=payment.customer_id,
            amount=Money(amount=payment.captured_amount, currency=payment.currency),
            captured_at=payment.updated_at,
        ),
        aggregate_id=payment.id,
    )
    await tender.redeemed(session, payment, payment.updated_at)


async def _paid_by_gift_cards(session: AsyncSession, payment: Payment, now: datetime) -> None:
    """The gift cards paid it all (no card): captured in the transaction that debited them."""
    payment.status = PaymentStatus.CAPTURED
    payment.captured_amount = payment.amount
    payment.updated_at = now
    await repo.append_records(
        session, [payment_record(payment, "captured", payment.amount, None, tender="gift_cards")]
    )
    await _record_captured(session, payment)


def _charge_id(intent: stripe.PaymentIntent) -> str | None:
    charge = intent.latest_charge
    return charge if isinstance(charge, str) or charge is None else charge.id


async def _apply_decline(db: Database, order_id: str, declined: Declined) -> Payment:
    async with db.unit_of_work() as session:
        payment = await repo.payment_for_order(session, order_id)
        assert payment is not None
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.DECLINED
            payment.decline_code = declined.code
            payment.provider_intent_id = declined.intent_id
            payment.updated_at = datetime.now(UTC)
            await tender.reverse(session, payment, payment.updated_at)
            await repo.append_records(
                session,
                [
                    payment_record(
                        payment, "failed", payment.amount, declined.intent_id, decline_code=declined.code
                    )
                ],
            )
        return payment


async def _apply_refusal(db: Database, order_id: str, refused: Refused) -> Payment:
    """The provider refused to create the payment: settle it as failed (a refused request stays refused,
    so leaving it pending would leave it pending for ever)."""
    async with db.unit_of_work() as session:
        payment = await repo.payment_for_order(session, order_id)
        assert payment is not None
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED
            payment.decline_code = refused.code
            payment.updated_at = datetime.now(UTC)
            await tender.reverse(session, payment, payment.updated_at)
            record = payment_record(
                payment,
                "failed",
                payment.amount,
                None,
                decline_code=refused.code,
                param=refused.param,
                reason=refused.message[:200],
            )
            await repo.append_records(session, [record])
        return payment


async def _authorise(db: Database, provider: Provider, payment: Payment, *, capture: bool = False) -> Payment:
    """Ask the provider (again, with the same idempotency key) and record its answer.

    With `capture`, an authorised intent is captured straight away and both facts are recorded in one
    transaction. Without it (recovery), the intent's current state is fetched: a replayed create
    answers as it did the first time, which may be long out of date."""
    try:
        intent = await provider.authorise(
            order_id=payment.order_id,
            amount=tender.card_amount(payment),  # the gift cards paid the rest
            currency=payment.currency,
            payment_method=payment.payment_method,
            description=f"Mercato order {payment.order_id}",
        )
    except Refused as refused:
        return await _apply_refusal(db, payment.order_id, refused)
    except Declined as declined:
        return await _apply_decline(db, payment.order_id, declined)
    except ProviderUnavailable as error:
        raise ServiceUnavailable(
            "The payment provider did not answer; the payment is unconfirmed."
        ) from error
    card = _card_of(intent)
    try:
        if capture and intent.status == "requires_capture":
            intent = await provider.capture(intent.id, order_id=payment.order_id)
        elif not capture:
            intent = await provider.intent(intent.id)
    except Refused:
        pass  # the hold is made: record it as the create answered; a capture can be asked again
    except Declined as declined:
        return await _apply_decline(db, payment.order_id, declined)
    except ProviderUnavailable as error:
        raise ServiceUnavailable(
            "The payment provider did not answer; the payment is unconfirmed."
        ) from error
    return await apply_intent(db, payment.order_id, intent, card)


async def pay(db: Database, provider: Provider, data: PaymentIn) -> tuple[PaymentOut, bool]:
    """Authorise and capture the order's amount. Returns (payment, created). Repeating it for the same
    order returns the same payment; it never charges twice. Gift cards are debited first, in the
    transaction that claims the payment (giftcards/tender.py); the card is charged the rest."""
    if not data.gift_cards:
        if data.payment_method is None:
            raise UnprocessableEntity("A payment method is needed.", errors={"payment_method": "is required"})
        if problem := outside_charge_limits(data.amount.amount, data.amount.currency):
            raise UnprocessableEntity(
                "The payment provider cannot charge this amount.", errors={"amount.amount": problem}
            )
    now = datetime.now(UTC)
    async with db.unit_of_work() as session:
        payment = Payment(
            id=new_id("pay"),
            order_id=data.order_id,
            customer_id=data.customer_id,
            amount=data.amount.amount,
            currency=data.amount.currency,
            payment_method=data.payment_method or "",
            status=PaymentStatus.PENDING,
            captured_amount=0,
            refunded_amount=0,
            created_at=now,
            updated_at=now,
        )
        created = await repo.add_payment(session, payment)
        if created and data.gift_cards:
            payment = await tender.debit(
                session, data.order_id, data.gift_cards, payment_method=data.payment_method, now=now
            )
            if tender.card_amount(payment) == 0:
                await _paid_by_gift_cards(session, payment, now)
        if not created:
            payment = await repo.payment_for_order(session, data.order_id)
            assert payment is not None
            if (payment.amount, payment.currency, payment.payment_method) != (
                data.amount.amount,
                data.amount.currency,
                data.payment_method or "",
            ):
                raise Conflict("This order already has a payment with other details.")

    if payment.status == PaymentStatus.PENDING:
        payment = await _authorise(db, provider, payment, capture=True)
    if payment.status == PaymentStatus.AUTHORISED:
        try:
            intent = await provider.capture(payment.provider_intent_id or "", order_id=payment.order_id)
        except ProviderUnavailable as error:
            raise ServiceUnavailable("The payment provider did not confirm the capture.") from error
        except Refused as refused:
            raise Conflict(f"The payment provider refused the capture: {refused.message}") from None
        payment = await apply_intent(db, payment.order_id, intent)
    if payment.status == PaymentStatus.DECLINED:
        raise _declined(payment)
    if payment.status == PaymentStatus.FAILED:
        raise _refused(payment)
    if payment.status not in SETTLED:
        raise Conflict(f"The payment is {payment.status} and cannot be captured.")
    return payment_out(payment), created


async def resolve(db: Database, provider: Provider, order_id: str) -> PaymentOut:
    """Find out what really happened to an order's payment, e.g. after a crash mid-checkout."""
    payment = await load_payment(db, order_id)
    if payment.status == PaymentStatus.PENDING:
        payment = await _authorise(db, provider, payment)
    elif payment.status == PaymentStatus.AUTHORISED and payment.provider_intent_id:
        try:
            payment = await apply_intent(db, order_id, await provider.intent(payment.provider_intent_id))
        except ProviderUnavailable as error:
            raise ServiceUnavailable("The payment provider did not answer.") from error
    return payment_out(payment)


async def payment_with_records(db: Database, order_id: str) -> PaymentOut:
    async with db.read() as session:
        payment = await repo.payment_for_order(session, order_id)
        if payment is None:
            raise NotFound("This order has no payment.")
        return payment_out(payment, await repo.records_for(session, order_id))


# --- back office ---------------------------------------------------------------------------------


def _trail_record(record: PaymentRecord) -> TrailRecordOut:
    detail = record.detail or {}
    return TrailRecordOut(
        id=record.id,
        kind=record.kind,
        amount=Money(amount=record.amount, currency=record.currency),
        provider_ref=record.provider_ref,
        reason=detail.get("reason"),
        decline_code=detail.get("decline_code"),
        staff_id=record.staff_id,
        source=detail.get("source", "mercato"),
        created_at=record.created_at,
    )


async def staff_payments(
    db: Database, *, order_id: str | None, customer_id: str | None, before: str | None, limit: int
) -> list[StaffPaymentOut]:
    """Payments newest first (an order has one), each with its whole record trail, oldest fact first."""
    async with db.read() as session:
        payments = await repo.payments(
            session, order_id=order_id, customer_id=customer_id, before=before, limit=limit
        )
        trails = await repo.records_of_orders(session, [payment.order_id for payment in payments])

    def money(payment: Payment, amount: int) -> Money:
        return Money(amount=amount, currency=payment.currency)

    return [
        StaffPaymentOut(
            id=p.id,
            order_id=p.order_id,
            customer_id=p.customer_id,
            status=p.status,
            amount=money(p, p.amount),
            captured=money(p, p.captured_amount),
            refunded=money(p, p.refunded_amount),
            card=CardOut(brand=p.card_brand, last4=p.card_last4),
            provider_intent_id=p.provider_intent_id,
            decline_code=p.decline_code,
            created_at=p.created_at,
            updated_at=p.updated_at,
            records=[_trail_record(record) for record in trails[p.order_id]],
        )
        for p in payments
    ]
