"""Stock on hand as the warehouse counts it: adjustments with a reason, and their history.

An adjustment is one conditional UPDATE (`on_hand + delta >= reserved`), so it can never take away
units that orders being paid for hold, however it races with them. Each one is kept (who, when, how
many, why) and published as InventoryChanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.merchandising import SERVICE
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.merchandising.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    StockLevelOut,
    StockMovementOut,
)
from mercato.services.catalog.models import StockMovement
from mercato.services.catalog.service import ADJUSTED, aware, record_inventory

ADDS = frozenset({"received", "returned"})  # units come in
REMOVES = frozenset({"damaged", "lost"})  # units go out


def movement_view(movement: StockMovement) -> StockMovementOut:
    return StockMovementOut(
        id=movement.id,
        delta=movement.delta,
        reason=movement.reason,
        note=movement.note,
        staff_id=movement.staff_id,
        created_at=aware(movement.created_at),
    )


def _check_sign(data: AdjustmentIn) -> None:
    if data.delta == 0:
        raise UnprocessableEntity("An adjustment changes stock.", errors={"delta": "may not be 0"})
    if data.reason in ADDS and data.delta < 0:
        raise UnprocessableEntity(
            f"Units {data.reason} are added to stock.",
            errors={"delta": f"must be positive for {data.reason}"},
        )
    if data.reason in REMOVES and data.delta > 0:
        raise UnprocessableEntity(
            f"Units {data.reason} are taken from stock.",
            errors={"delta": f"must be negative for {data.reason}"},
        )


async def adjust(session: AsyncSession, staff: Staff, sku: str, data: AdjustmentIn) -> AdjustmentOut:
    _check_sign(data)
    now = datetime.now(UTC)
    level = await catalog_repo.adjust_on_hand(session, sku, data.delta, now)
    if level is None:  # only now find out why
        if sku not in await catalog_repo.available_units(session, [sku]):
            raise NotFound(f"There is no SKU {sku!r}.")
        raise Conflict(
            "Stock on hand can't drop below the units reserved for orders being paid for.",
            errors={"delta": "would leave fewer units than are reserved"},
        )
    movement = StockMovement(
        id=new_id("stm"),
        sku=sku,
        delta=data.delta,
        reason=data.reason,
        note=data.note or None,
        staff_id=staff.id,
        created_at=now,
    )
    await catalog_repo.add_all(session, [movement])
    await record_inventory(session, level, ADJUSTED, now)
    await record_staff_action(
        session,
        staff,
        "inventory.adjust",
        service=SERVICE,
        target_type="sku",
        target_id=sku,
        details={"delta": data.delta, "reason": data.reason, "on_hand": level.on_hand},
    )
    return AdjustmentOut(
        sku=sku,
        product_id=level.product_id,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        adjustment=movement_view(movement),
    )


async def stock(
    session: AsyncSession, sku: str, *, before: str | None, limit: int
) -> tuple[StockLevelOut, list[StockMovementOut]]:
    """A SKU's stock now and a page of its history, newest first."""
    found = await repo.stock_level(session, sku)
    if found is None:
        raise NotFound(f"There is no SKU {sku!r}.")
    inventory, product_id = found
    level = StockLevelOut(
        sku=sku,
        product_id=product_id,
        on_hand=inventory.on_hand,
        reserved=inventory.reserved,
        available=inventory.on_hand - inventory.reserved,
    )
    movements = await repo.movements_page(session, sku, before=before, limit=limit)
    return level, [movement_view(m) for m in movements]
