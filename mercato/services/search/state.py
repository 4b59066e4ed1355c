"""What the search index knows of one product, and the ordering guard that keeps redeliveries out.

The index keeps the whole last snapshot of a product (`_State`, stored in its document) so an
`InventoryChanged` can be folded into it and the product re-indexed without asking catalog anything,
and so an out-of-order redelivery can be recognised: a snapshot older than the indexed one
(`updated_at`), an inventory change older than the last one seen for that SKU, or anything older than a
deletion (kept as a tombstone) is ignored.

Archived and deleted products stay in the index as invisible documents (that is what keeps the ordering
guard working) and never show up in results, facets or suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from mercato.contracts.events import (
    InventoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
)

Product = ProductCreated | ProductUpdated
Change = ProductCreated | ProductUpdated | ProductDeleted | InventoryChanged


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class _State:
    """What the index knows of one product: its last snapshot, or a tombstone."""

    product_id: str
    product: Product | None
    stock_at: dict[str, datetime] = field(default_factory=dict)  # SKU -> last InventoryChanged applied
    deleted_at: datetime | None = None

    @property
    def version(self) -> datetime:
        if self.product is not None:
            return _utc(self.product.updated_at)
        assert self.deleted_at is not None
        return self.deleted_at

    @property
    def visible(self) -> bool:
        return self.product is not None and self.product.status == "active" and bool(self.product.variants)

    def dump(self) -> bytes:
        return orjson.dumps(
            {
                "product": self.product.model_dump(mode="json") if self.product is not None else None,
                "stock_at": {sku: at.isoformat() for sku, at in self.stock_at.items()},
                "deleted_at": self.deleted_at.isoformat() if self.deleted_at else None,
            }
        )

    @classmethod
    def load(cls, product_id: str, raw: bytes) -> _State:
        data = orjson.loads(raw)
        return cls(
            product_id=product_id,
            product=ProductUpdated.model_validate(data["product"]) if data["product"] else None,
            stock_at={sku: _utc(datetime.fromisoformat(at)) for sku, at in data["stock_at"].items()},
            deleted_at=_utc(datetime.fromisoformat(data["deleted_at"])) if data["deleted_at"] else None,
        )


# --- folding a change into the state: None when it changes nothing --------------------------------


def _fold_deletion(current: _State | None, change: ProductDeleted) -> _State | None:
    deleted_at = _utc(change.deleted_at)
    if current is not None and current.version > deleted_at:
        return None
    return _State(change.product_id, None, deleted_at=deleted_at)


def _fold_snapshot(current: _State | None, product: Product) -> _State | None:
    updated_at = _utc(product.updated_at)
    stock_at: dict[str, datetime] = {}
    if current is not None:
        if current.product is None and updated_at <= current.version:  # deleted after this snapshot
            return None
        if updated_at < current.version:
            return None
        if current.product is not None:  # stock heard of after this snapshot was taken stays
            known = {v.sku: v.available for v in current.product.variants}
            later = {sku: at for sku, at in current.stock_at.items() if at > updated_at and sku in known}
            if later:
                variants = tuple(
                    v.model_copy(update={"available": known[v.sku]}) if v.sku in later else v
                    for v in product.variants
                )
                product = product.model_copy(update={"variants": variants})
                stock_at = {sku: at for sku, at in later.items() if any(v.sku == sku for v in variants)}
    return _State(product.product_id, product, stock_at=stock_at)


def _fold_inventory(current: _State | None, change: InventoryChanged) -> _State | None:
    if current is None or current.product is None:
        return None
    product = current.product
    if not any(v.sku == change.sku for v in product.variants):
        return None
    changed_at = _utc(change.changed_at)
    if changed_at < max(current.stock_at.get(change.sku, current.version), current.version):
        return None
    variants = tuple(
        v.model_copy(update={"available": change.available}) if v.sku == change.sku else v
        for v in product.variants
    )
    return _State(
        current.product_id,
        product.model_copy(update={"variants": variants}),
        stock_at={**current.stock_at, change.sku: changed_at},
    )
