"""Orders' data migrations, run on a database that holds rows from before them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.migrations import upgrade


async def test_cart_lines_move_into_one_cart_per_customer_with_their_holds(databases, backend):
    """0008: every customer's lines (a checkout's hold included) are in that customer's one cart."""
    url = await databases.empty("orders", backend)
    await asyncio.to_thread(upgrade, "orders", url, "0007")
    engine = create_async_engine(url)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    lines = [
        ("cus_A", "SKU-1", 2, None),
        ("cus_A", "SKU-2", 1, "ord_paying"),
        ("cus_B", "SKU-1", 5, None),
    ]
    async with engine.begin() as connection:
        for customer, sku, quantity, order_id in lines:
            await connection.execute(
                text(
                    "INSERT INTO cart_lines (customer_id, sku, quantity, added_at, order_id)"
                    " VALUES (:c, :s, :q, :at, :o)"
                ),
                {"c": customer, "s": sku, "q": quantity, "at": at, "o": order_id},
            )

    await asyncio.to_thread(upgrade, "orders", url, "0008")

    async with engine.connect() as connection:
        moved = (
            await connection.execute(
                text(
                    "SELECT carts.customer_id, carts.id, cart_lines.sku, cart_lines.quantity,"
                    " cart_lines.order_id FROM cart_lines JOIN carts ON carts.id = cart_lines.cart_id"
                    " ORDER BY carts.customer_id, cart_lines.sku"
                )
            )
        ).all()
        cart_count = (await connection.execute(text("SELECT count(*) FROM carts"))).scalar_one()
    await engine.dispose()
    assert [(c, s, q, o) for c, _, s, q, o in moved] == lines
    assert cart_count == 2
    assert len({cart_id for c, cart_id, *_ in moved if c == "cus_A"}) == 1
    assert all(cart_id.startswith("cart_") for _, cart_id, *_ in moved)
