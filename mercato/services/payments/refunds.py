"""Refunds: those Mercato makes (staff's, through orders; the void that undoes a failed checkout) and
those made at the provider outside Mercato (its dashboard: a `charge.refunded` webhook), with disputes.

A refund goes back to the gift cards first (in the order they paid), then the card. Each is recorded
once — by its refund key for Mercato's own, by the provider's refund id for the others — and staged as
PaymentRefunded in the transaction that records it (service.py says why).
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import PaymentRefunded
from mercato.contracts.money import Money
from mercato.platform.db import Database
from mercato.platform.errors import Conflict, NotFound, ServiceUnavailable, UnprocessableEntity
from mercato.platform.outbox import record_event
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.payments import repository as repo
from mercato.services.payments.giftcards import tender
from mercato.services.payments.models import Payment, ProviderEvent
from mercato.services.payments.provider import (
    Declined,
    Provider,
    ProviderUnavailable,
    Refused,
    WebhookEvent,
    made_by_mercato,
    refund_metadata,
)
from mercato.services.payments.schemas import PaymentOut, RefundIn, RequestedBy
from mercato.services.payments.service import (
    SETTLED,
    PaymentStatus,
    apply_intent,
    load_payment,
    payment_out,
    payment_record,
    resolve,
)


async def void(db: Database, provider: Provider, order_id: str) -> PaymentOut | None:
    """Undo whatever the order's payment got to: release a hold, or refund a capture. None if there
    was no payment at all. Used when checkout fails after payment started."""
    try:
        current = await resolve(db, provider, order_id)
    except NotFound:
        return None
    if current.status == PaymentStatus.AUTHORISED:
        payment = await load_payment(db, order_id)
        try:
            intent = await provider.cancel(payment.provider_intent_id or "", order_id=order_id)
        except ProviderUnavailable as error:
            raise ServiceUnavailable("The payment provider did not confirm the void.") from error
        except Refused as refused:
            raise Conflict(f"The payment provider refused the void: {refused.message}") from None
        return payment_out(await apply_intent(db, order_id, intent))
    if current.status in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        return await refund(
            db, provider, order_id, RefundIn(refund_key="void", reason="checkout_failed"), ledger="reversed"
        )
    return current


async def refund(
    db: Database, provider: Provider, order_id: str, data: RefundIn, *, ledger: str = "refunded"
) -> PaymentOut:
    """Refund `data.amount`, or all that is left: to the gift cards first (in the order they paid), then
    the card. The refund key makes it idempotent all the way to the provider: repeated, it answers the
    same and refunds nothing more; reused for another amount or reason, it is refused. `ledger`: the
    gift cards' entry kind ("reversed" when a failed checkout is undone)."""
    payment = await load_payment(db, order_id)
    if payment.status not in SETTLED:
        raise Conflict(f"A {payment.status} payment cannot be refunded.")
    remaining = payment.captured_amount - payment.refunded_amount
    amount = data.amount or remaining
    key = f"mercato:{order_id}:refund:{data.refund_key}"
    async with db.read() as session:
        made = await repo.record_with_key(session, key)
    if made is not None:
        if (data.amount not in (None, made.amount)) or made.detail.get("reason") != data.reason:
            raise Conflict(
                "This refund key was used for another refund.",
                errors={"refund_key": "was used for another amount or reason"},
            )
        return payment_out(payment)  # this refund was made before: the same answer, no second refund
    if amount > remaining:
        raise UnprocessableEntity(
            f"At most {remaining} can be refunded.",
            errors={"amount": f"exceeds the {remaining} left to refund"},
        )
    if amount == 0:
        raise Conflict("Everything captured has been refunded already.", slug="nothing-to-refund")
    gift_parts, card_part = tender.split_refund(payment, amount)
    refund_id = None
    if card_part:
        try:
            provider_refund = await provider.refund(
                payment.provider_intent_id or "", amount=card_part, key=key, reason=data.reason
            )
        except ProviderUnavailable as error:
            raise ServiceUnavailable("The payment provider did not confirm the refund.") from error
        except (Declined, Refused) as refused:
            raise Conflict(f"The provider refused the refund: {refused.message}") from None
        refund_id, card_part = provider_refund.id, provider_refund.amount
    return payment_out(
        await _apply_refund(
            db,
            order_id,
            refund_id,
            sum(gift_parts) + card_part,
            data.reason,
            request_key=key,
            requested_by=data.requested_by,
            gift_parts=(gift_parts, ledger),
        )
    )


async def _apply_refund(
    db: Database,
    order_id: str,
    refund_id: str | None,
    amount: int,
    reason: str,
    *,
    request_key: str | None = None,
    requested_by: RequestedBy | None = None,
    gift_parts: tuple[list[int], str] = ([], "refunded"),
) -> Payment:
    """`refund_id`: the provider's refund of the card's part; None when the gift cards took it all.

    The payment row is locked first, so refunds of one order are recorded one after the other: a
    concurrent request with the same key finds the first one's record (a replay, recorded once), and a
    refund the gift cards take alone is split again on what is left now, never more than they paid."""
    async with db.unit_of_work() as session:
        payment = await repo.payment_for_order(session, order_id, lock=True)
        assert payment is not None
        replayed = (
            await repo.has_record(session, order_id, "refunded", refund_id)
            if refund_id
            else request_key is not None and await repo.record_with_key(session, request_key) is not None
        )
        if not replayed and refund_id is None:
            parts, card_part = tender.split_refund(payment, amount)
            if card_part or payment.refunded_amount + amount > payment.captured_amount:
                raise Conflict(
                    "Another refund of this order was made meanwhile; nothing was refunded. Check what is "
                    "left to refund and try again.",
                    slug="refund-conflict",
                )
            gift_parts = (parts, gift_parts[1])
        if not replayed:  # a replay records nothing
            await tender.refund(session, payment, gift_parts[0], datetime.now(UTC), kind=gift_parts[1])
            payment.refunded_amount += amount
            payment.status = (
                PaymentStatus.REFUNDED
                if payment.refunded_amount >= payment.captured_amount
                else PaymentStatus.PARTIALLY_REFUNDED
            )
            payment.updated_at = datetime.now(UTC)
            staff_id = requested_by.staff_id if requested_by else None
            await repo.append_records(
                session,
                [
                    payment_record(
                        payment,
                        "refunded",
                        amount,
                        refund_id,
                        request_key=request_key,
                        staff_id=staff_id,
                        reason=reason,
                    )
                ],
            )
            # Also the refund that undoes a failed checkout (reason "checkout_failed"): its capture
            # was published, and consumers adding up money must see it given back.
            await _record_refunded(session, payment, amount, reason, payment.updated_at)
            if requested_by:
                await _audit_refund(
                    session, payment, requested_by, amount=amount, reason=reason, refund_id=refund_id
                )
        return payment


async def _audit_refund(
    session: AsyncSession,
    payment: Payment,
    requested_by: RequestedBy,
    *,
    amount: int,
    reason: str,
    refund_id: str,
) -> None:
    """A refund staff asked for is audited here, in the transaction that records the money leaving,
    rather than by the service staff called: so the audit trail has each refund exactly once, even if
    the caller fails after this commit. (The caller checked the staff member's role.)"""
    staff = Staff(id=requested_by.staff_id, roles=frozenset(), source_ip=requested_by.source_ip)
    await record_staff_action(
        session,
        staff,
        "refund.create",
        service="payments",
        target_type="payment",
        target_id=payment.id,
        details={
            "order_id": payment.order_id,
            "amount": amount,
            "currency": payment.currency,
            "reason": reason,
            "provider_refund_id": refund_id,
            "total_refunded": payment.refunded_amount,
        },
    )


async def _record_refunded(
    session: AsyncSession, payment: Payment, amount: int, reason: str | None, now: datetime
) -> None:
    await record_event(
        session,
        PaymentRefunded(
            payment_id=payment.id,
            order_id=payment.order_id,
            customer_id=payment.customer_id,
            amount=Money(amount=amount, currency=payment.currency),
            total_refunded=Money(amount=payment.refunded_amount, currency=payment.currency),
            reason=reason,
            refunded_at=now,
        ),
        aggregate_id=payment.id,
    )


HANDLED_EVENTS = frozenset({"charge.dispute.created", "charge.refunded"})


async def handle_provider_event(db: Database, provider: Provider, event: WebhookEvent) -> None:
    """Apply a verified webhook once: disputes, and refunds made outside Mercato (e.g. the dashboard).
    Intent events only confirm what checkout recorded synchronously, so they are acknowledged unread.

    A `charge.refunded` is read as "look at the refunds": each refund the provider lists that Mercato did
    not make itself is recorded once, by its id. Mercato's own refunds are recorded as they are made,
    and the webhook for one may arrive before that record commits, so it must not count them."""
    if event.type not in HANDLED_EVENTS:
        return
    obj = event.object
    intent_id = obj.get("payment_intent") if event.type.startswith("charge.") else obj.get("id")
    if not intent_id:
        return
    outside: list[stripe.Refund] = []
    if event.type == "charge.refunded":
        outside = [r for r in await provider.refunds(intent_id) if not made_by_mercato(r)]
    async with db.unit_of_work() as session:
        if not await repo.claim_event(
            session, ProviderEvent(id=event.id, type=event.type, received_at=datetime.now(UTC))
        ):
            return
        payment = await repo.payment_by_intent(session, intent_id, lock=True)
        if payment is None:
            return
        if event.type == "charge.dispute.created":
            await repo.append_records(
                session,
                [
                    payment_record(
                        payment, "disputed", obj.get("amount", 0), obj.get("id"), reason=obj.get("reason")
                    )
                ],
            )
        for refund in outside:
            if await repo.has_record(session, payment.order_id, "refunded", refund.id):
                continue
            payment.refunded_amount += refund.amount
            payment.status = (
                PaymentStatus.REFUNDED
                if payment.refunded_amount >= payment.captured_amount
                else PaymentStatus.PARTIALLY_REFUNDED
            )
            payment.updated_at = datetime.now(UTC)
            reason = refund_metadata(refund).get("reason") or refund.reason
            await repo.append_records(
                session,
                [
                    payment_record(
                        payment, "refunded", refund.amount, refund.id, source="provider", reason=reason
                    )
                ],
            )
            await _record_refunded(session, payment, refund.amount, reason, payment.updated_at)
