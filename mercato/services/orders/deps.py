"""What every orders use case is given (the database, the two services it calls, the quote's
configuration in memory, its settings, the store of its documents), and who acts when an order changes
state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from mercato.platform.db import Database
from mercato.platform.staff import Staff
from mercato.platform.storage import ObjectStore
from mercato.services.orders.clients import Catalog, Notifications, Payments
from mercato.services.orders.pricing.cache import PricingCache
from mercato.services.orders.promotions.cache import PromotionsCache
from mercato.services.orders.settings import OrdersSettings


@dataclass(frozen=True)
class Deps:
    db: Database
    catalog: Catalog
    payments: Payments
    settings: OrdersSettings
    pricing: PricingCache
    notifications: Notifications  # asked only for a guest's GDPR export, never on checkout's path
    documents: ObjectStore  # invoices and credit notes (invoicing/documents.py)
    promotions: PromotionsCache  # cart promotions in memory (promotions/cache.py)


@dataclass(frozen=True)
class Actor:
    """Who asked for a change of state: what the order's timeline shows (and, for staff, whom the
    audit trail names)."""

    kind: Literal["customer", "staff", "system"]
    staff: Staff | None = None

    @property
    def staff_id(self) -> str | None:
        return self.staff.id if self.staff else None


CUSTOMER = Actor("customer")
SYSTEM = Actor("system")  # the reconciler, or a consequence of another change (a refund after a cancel)


def now() -> datetime:
    return datetime.now(UTC)
