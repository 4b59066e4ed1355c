"""Tables the kernel owns inside every service's database (each service migrates its own copy)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from mercato.platform.columns import UTCDateTime
from mercato.platform.crypto import EncryptedBytes, EncryptedJSON, EncryptedText

platform_metadata = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    platform_metadata,
    Column("scope", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", EncryptedBytes, nullable=True),  # encrypted where the service has data keys
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)

# The transactional outbox: events written in the same transaction as the state change they report,
# relayed to the broker afterwards. `position` orders them; the relay publishes per aggregate in order.
outbox = Table(
    "outbox",
    platform_metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("aggregate_type", String(50), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("envelope", EncryptedJSON, nullable=False),  # encrypted where the service has data keys
    Column("created_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(500), nullable=True),
    Index("ix_outbox_unpublished", "published_at", "position"),
)

# The inbox of a consuming service: one row per (event, handler) that took effect, written in the same
# transaction as the effect, so a redelivered event is recognised and skipped.
inbox = Table(
    "inbox",
    platform_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("handler", String(100), primary_key=True),
    Column("processed_at", UTCDateTime(), nullable=False, index=True),
)

# Dead letters: events a handler failed on after every retry. They wait here, with the error, for an
# operator to fix the cause and replay them (`mercato events dead-letters …`).
dead_letters = Table(
    "dead_letters",
    platform_metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("handler", String(100), nullable=False),
    Column("envelope", EncryptedJSON, nullable=False),  # encrypted where the service has data keys
    Column("attempts", Integer, nullable=False),
    Column("error", EncryptedText, nullable=False),  # may quote the event: encrypted with data keys
    Column("status", String(16), nullable=False),  # dead | replayed
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ux_dead_letters_event_handler", "event_id", "handler", unique=True),
    Index("ix_dead_letters_status", "status", "created_at"),
)
