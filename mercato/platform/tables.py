"""Tables the kernel owns inside every service's database (each service migrates its own copy)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table

platform_metadata = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    platform_metadata,
    Column("scope", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
