"""Promotions' tables (migration 0011): the promotions merchandisers define, their codes, and what each
order used of them — the counters that make usage limits hold under concurrency (docs/promotions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.services.orders.models import Base


class PromotionRow(Base):
    """A promotion: automatic or by code; its conditions and action as JSON (promotions/rules.py parses
    them); `used` counts its redemptions, pending checkouts included, so `usage_limit` is enforced by one
    conditional UPDATE in the checkout's transaction."""

    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_active", "active", "trigger"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    trigger: Mapped[str] = mapped_column(String(10))  # automatic | code
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first
    combines: Mapped[bool] = mapped_column(Boolean, default=True)  # False: exclusive
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromotionCode(Base):
    """A code that applies its promotion: a shared one (SUMMER10: `usage_limit` None, the promotion's
    limit counts) or one of a generated batch (single use: `usage_limit` 1)."""

    __tablename__ = "promotion_codes"
    __table_args__ = (Index("ix_promotion_codes_promotion", "promotion_id", "batch_id"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)  # upper case
    promotion_id: Mapped[str] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    batch_id: Mapped[str | None] = mapped_column(String(40))
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromotionCodeBatch(Base):
    """A bulk generation of single-use codes: how far it got (the back office's progress bar)."""

    __tablename__ = "promotion_code_batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    promotion_id: Mapped[str] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(12), default="")
    requested: Mapped[int] = mapped_column(Integer)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12))  # running | done | failed
    staff_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PromotionRedemption(Base):
    """A promotion an order used: written with the pending order (counted against the limits from then
    on), deleted if its checkout fails, kept once it is placed (the report's rows)."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (Index("ix_promotion_redemptions_buyer", "promotion_id", "buyer_key"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    promotion_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40))
    # The customer's id, or a guest's e-mail blind index: whom per-customer limits count.
    buyer_key: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromotionBuyerUses(Base):
    """How many times one buyer used a promotion (pending checkouts included): per-customer limits are
    one conditional upsert on this row."""

    __tablename__ = "promotion_buyer_uses"

    promotion_id: Mapped[str] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
