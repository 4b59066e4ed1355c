"""A cancelled order's stock comes back: catalog consumes OrderStatusChanged (through the real consumer
kernel, with its inbox) and restocks what the order's reservation took, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import select

from mercato.contracts.events import OrderStatusChanged
from mercato.platform.ids import new_id
from mercato.platform.messaging import Delivery
from mercato.platform.tables import dead_letters, outbox
from mercato.services.catalog.models import Inventory, StockMovement
from tests.catalog.factories import available, create_product, reserve


def _status_changed(order_id: str, to_state: str, *, from_state: str = "confirmed") -> dict:
    event = OrderStatusChanged(
        order_id=order_id,
        customer_id=new_id("cus"),
        from_state=from_state,
        to_state=to_state,
        reason="requested by the customer" if to_state == "cancelled" else None,
        changed_at=datetime.now(UTC),
    )
    return event.envelope()


async def _deliver(catalog, *envelopes: dict) -> None:
    await catalog.app.state.consumer.on_deliveries([Delivery(orjson.dumps(e)) for e in envelopes])


async def _stock(catalog, sku: str) -> tuple[int, int]:
    """(on hand, reserved) as stored."""
    async with catalog.app.state.db.read() as session:
        row = (await session.execute(select(Inventory).where(Inventory.sku == sku))).scalar_one()
        return row.on_hand, row.reserved


async def _inventory_events(catalog) -> list[dict]:
    async with catalog.app.state.db.read() as session:
        rows = (
            (
                await session.execute(
                    select(outbox)
                    .where(outbox.c.event_type == "InventoryChanged")
                    .order_by(outbox.c.position)
                )
            )
            .mappings()
            .all()
        )
    return [row["envelope"]["payload"] for row in rows]


async def _movements(catalog, sku: str) -> list[tuple[int, str, str | None]]:
    """Stock movements other than the initial stock the product was created with."""
    async with catalog.app.state.db.read() as session:
        rows = (await session.execute(select(StockMovement).where(StockMovement.sku == sku))).scalars().all()
        return [(row.delta, row.reason, row.note) for row in rows if row.note != "initial stock"]


async def _dead_letters(catalog) -> list:
    async with catalog.app.state.db.read() as session:
        return (await session.execute(select(dead_letters))).mappings().all()


async def _sold(catalog, lines: list[tuple[str, int]]) -> str:
    """An order that reserved `lines` and was paid for (its reservation committed); returns its id."""
    order_id = new_id("ord")
    held = await reserve(catalog, key=order_id, lines=lines)
    assert held.status_code == 201, held.text
    committed = await catalog.post(f"/internal/reservations/{order_id}/commit")
    assert committed.json()["status"] == "committed"
    return order_id


async def _reservation_status(catalog, order_id: str) -> str:
    response = await catalog.get(f"/internal/reservations/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_a_cancelled_paid_order_puts_its_units_back_on_hand_once(catalog):
    product = await create_product(catalog, stock=5)
    small, medium = (v["sku"] for v in product["variants"])
    order_id = await _sold(catalog, [(small, 2), (medium, 1)])
    assert await _stock(catalog, small) == (3, 0)
    assert await available(catalog, small) == 3
    events_before = await _inventory_events(catalog)
    cancelled = _status_changed(order_id, "cancelled")

    await _deliver(catalog, cancelled)

    assert await _stock(catalog, small) == (5, 0)
    assert await _stock(catalog, medium) == (5, 0)
    assert await available(catalog, small) == 5
    shown = (await catalog.get(f"/api/v1/products/{product['slug']}")).json()
    assert {v["sku"]: v["available"] for v in shown["variants"]} == {small: 5, medium: 5}
    assert await _reservation_status(catalog, order_id) == "restocked"

    new_events = (await _inventory_events(catalog))[len(events_before) :]
    assert sorted(
        (e["sku"], e["on_hand"], e["reserved"], e["available"], e["reason"], e["product_id"])
        for e in new_events
    ) == sorted([(small, 5, 0, 5, "restocked", product["id"]), (medium, 5, 0, 5, "restocked", product["id"])])
    assert await _movements(catalog, small) == [(2, "restocked", f"order {order_id} cancelled")]
    assert await _movements(catalog, medium) == [(1, "restocked", f"order {order_id} cancelled")]

    # The same event again (a redelivery), and the same fact republished under a new event id:
    # nothing changes.
    await _deliver(catalog, cancelled)
    await _deliver(catalog, _status_changed(order_id, "cancelled"))
    assert await _stock(catalog, small) == (5, 0)
    assert await _stock(catalog, medium) == (5, 0)
    assert len(await _inventory_events(catalog)) == len(events_before) + 2
    assert len(await _movements(catalog, small)) == 1
    assert await _dead_letters(catalog) == []


async def test_a_cancelled_order_whose_reservation_was_still_held_releases_it(catalog):
    sku = (await create_product(catalog, stock=4))["variants"][0]["sku"]
    order_id = new_id("ord")
    assert (await reserve(catalog, key=order_id, lines=[(sku, 3)])).status_code == 201
    assert await _stock(catalog, sku) == (4, 3)
    assert await available(catalog, sku) == 1

    await _deliver(catalog, _status_changed(order_id, "cancelled", from_state="pending_payment"))

    assert await _reservation_status(catalog, order_id) == "released"
    assert await _stock(catalog, sku) == (4, 0)  # nothing had left on hand: nothing to put back
    assert await available(catalog, sku) == 4
    assert await _movements(catalog, sku) == []
    # a late commit of the released reservation is refused: the order can't take the units after all
    assert (await catalog.post(f"/internal/reservations/{order_id}/commit")).status_code == 409


async def test_releasing_a_sold_out_reservation_tells_the_sku_is_back_in_stock(catalog):
    sku = (await create_product(catalog, stock=2))["variants"][0]["sku"]
    order_id = new_id("ord")
    assert (await reserve(catalog, key=order_id, lines=[(sku, 2)])).status_code == 201
    assert await available(catalog, sku) == 0
    before = len(await _inventory_events(catalog))

    await _deliver(catalog, _status_changed(order_id, "cancelled"))

    [back] = (await _inventory_events(catalog))[before:]
    assert (back["sku"], back["on_hand"], back["reserved"], back["available"]) == (sku, 2, 0, 2)
    assert back["reason"] == "released"


async def test_other_state_changes_and_unknown_orders_change_nothing(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    order_id = await _sold(catalog, [(sku, 2)])
    events_before = await _inventory_events(catalog)

    for to_state in ("processing", "shipped", "delivered", "returned"):
        await _deliver(catalog, _status_changed(order_id, to_state))
    await _deliver(
        catalog, _status_changed(new_id("ord"), "cancelled")
    )  # an order catalog never held stock for

    assert await _stock(catalog, sku) == (3, 0)
    assert await _reservation_status(catalog, order_id) == "committed"
    assert await _inventory_events(catalog) == events_before
    assert await _movements(catalog, sku) == []
    assert await _dead_letters(catalog) == []
