from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mercato.platform.columns import UTCDateTime


class Base(DeclarativeBase):
    pass


class Payment(Base):
    """The current state of an order's payment: a projection of its records, for quick answers."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))  # see service.PaymentStatus
    provider_intent_id: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(24))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    captured_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    decline_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The gift cards that paid part of it, in the order they paid (giftcards/tender.py):
    # [{gift_card_id, last4, amount, refunded, reversed}]; the card paid the rest of `amount`.
    gift_cards: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class PaymentRecord(Base):
    """Every payment fact, in order, forever. The database refuses UPDATE and DELETE on this table
    (triggers in the migration), so the audit trail can only grow."""

    __tablename__ = "payment_records"
    __table_args__ = (Index("ix_payment_records_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    payment_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(64))
    # intent_created | authorised | captured | failed | voided | refunded | disputed
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    # The idempotency key of the request that caused this record, where a client may repeat it.
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The staff member who asked for this (a refund from the back office); empty for everything else.
    staff_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProviderEvent(Base):
    """Webhook events already handled, so a redelivered event is applied once."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
