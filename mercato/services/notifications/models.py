"""Notifications keeps only what it needs to write to people: their contact details and opt-ins (from
customer events), a summary of their orders (from order events) and the log of every message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.platform.crypto import Encrypted


class Base(DeclarativeBase):
    pass


class Recipient(Base):
    """A customer's contact details and communication opt-ins, as the customers service last said."""

    __tablename__ = "recipients"

    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Encrypted under the notifications' data keys (mercato/platform/crypto.py), as is every message.
    email: Mapped[str] = mapped_column(Encrypted())
    name: Mapped[str] = mapped_column(Encrypted())
    phone: Mapped[str | None] = mapped_column(Encrypted())
    language: Mapped[str] = mapped_column(String(8))
    opt_in_email: Mapped[bool] = mapped_column(Boolean)
    opt_in_sms: Mapped[bool] = mapped_column(Boolean)
    opt_in_push: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A tombstone: the customer was erased. The row stays (without their data) so that an older event
    # arriving late, or a replayed dead letter, cannot bring them back.
    erased: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class OrderSummary(Base):
    """What a message about an order shows: its number, lines and total, from OrderPlaced."""

    __tablename__ = "order_summaries"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    total_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The short human number (M-10042); empty for orders placed before OrderPlaced carried it.
    number: Mapped[str | None] = mapped_column(String(24))
    # A guest's order: the signed link of its page (no account to sign in to), which opens the order.
    order_url: Mapped[str | None] = mapped_column(Encrypted())


class Message(Base):
    """The sent log: every message, one row per (purpose, channel). `dedup_key` is unique, so one
    order can never yield two confirmations, whatever the broker redelivers."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_customer", "customer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # order_confirmation, order_shipped, …
    channel: Mapped[str] = mapped_column(String(8))  # email | sms | push
    # push: the device's platform, ios (APNs) or android (FCM); `to_address` is its token
    platform: Mapped[str | None] = mapped_column(String(8))
    # Encrypted: an address and a message written to a person by name.
    to_address: Mapped[str] = mapped_column(Encrypted())
    subject: Mapped[str | None] = mapped_column(Encrypted())
    body_text: Mapped[str] = mapped_column(Encrypted())
    body_html: Mapped[str | None] = mapped_column(Encrypted())
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Encrypted())  # an SMTP error may quote the address
    provider_id: Mapped[str | None] = mapped_column(String(200))  # Message-ID, Twilio SID, apns-id, FCM name
    # An e-mail's attachment, fetched when it is sent: the order's invoice, by its number (its file name).
    attachment: Mapped[str | None] = mapped_column(String(40))
    # A gift card whose code the e-mail carries: fetched from payments when it is sent, put where the
    # body says GIFT_CARD_CODE (giftcards.py), never stored here.
    gift_card_id: Mapped[str | None] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(36))
    event_occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Device(Base):
    """A phone of a customer's that takes push notifications: its platform and its APNs device token or
    FCM registration token. A token belongs to one customer at a time (an app signed in with another
    account on the same phone moves it); the token is encrypted like any contact detail and looked up
    by its SHA-256 (a provider's token is a long random value: no blind index needed)."""

    __tablename__ = "devices"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    platform: Mapped[str] = mapped_column(String(8))  # ios | android
    token: Mapped[str] = mapped_column(Encrypted())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # registered by this customer
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime()
    )  # last registered (the app does it each start)
