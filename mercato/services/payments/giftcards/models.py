"""A gift card and its ledger, in payments' database (the same metadata as payments' own tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.platform.crypto import Encrypted
from mercato.services.payments.models import Base


class GiftCard(Base):
    """A card's current balance: the projection of its ledger, changed only by conditional UPDATEs in the
    transaction that appends the ledger entry saying why."""

    __tablename__ = "gift_cards"
    __table_args__ = (
        # A card bought in an order is the n-th unit of a line: issued once, however often the event comes.
        UniqueConstraint("order_id", "sku", "n", name="uq_gift_cards_purchase"),
        Index("ix_gift_cards_last4", "last4", "id"),
        CheckConstraint("balance >= 0", name="ck_gift_cards_balance"),  # never overdrawn, whatever races
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(Encrypted())  # the card itself: encrypted under payments' data keys
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the normal form
    last4: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(Integer)
    initial: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))  # active | disabled
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bought: the order, the line's SKU and which of its units (1…quantity). Issued by staff: who.
    order_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    n: Mapped[int | None] = mapped_column(Integer)
    issued_by: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GiftCardEntry(Base):
    """Every change of a card's balance, in order, forever (the database refuses UPDATE and DELETE, as on
    payment_records). `amount` is signed: + issued, reversed, refunded; - redeemed; ± adjusted."""

    __tablename__ = "gift_card_entries"
    __table_args__ = (
        Index("ix_gift_card_entries_card", "gift_card_id", "id"),
        Index("ix_gift_card_entries_order", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    gift_card_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # issued | redeemed | reversed | refunded | adjusted
    order_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
