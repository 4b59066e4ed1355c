"""The quote's configuration tables: tax rates, shipping zones and methods (seeded by migration 0009,
managed in the back office)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.services.orders.models import Base


class TaxRateRow(Base):
    __tablename__ = "tax_rates"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    region: Mapped[str] = mapped_column(String(8), primary_key=True)  # a US state's code, or ""
    tax_class: Mapped[str] = mapped_column(String(10), primary_key=True)  # standard | reduced | zero
    rate: Mapped[str] = mapped_column(String(10))  # a decimal percentage as text: "19", "5.5"
    label: Mapped[str] = mapped_column(String(40))
    shipping_taxable: Mapped[bool] = mapped_column(Boolean)


class ShippingZoneRow(Base):
    __tablename__ = "shipping_zones"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    countries: Mapped[list[str]] = mapped_column(JSON)
    postal_patterns: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShippingMethodRow(Base):
    __tablename__ = "shipping_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("shipping_zones.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # standard | express | click_and_collect
    currency: Mapped[str] = mapped_column(String(3))
    rate_type: Mapped[str] = mapped_column(String(10))  # flat | value | weight
    amount: Mapped[int] = mapped_column(Integer)
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"up_to": 5000 | null, "amount": 799}]
    free_from: Mapped[int | None] = mapped_column(Integer)
    min_days: Mapped[int] = mapped_column(Integer)
    max_days: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
