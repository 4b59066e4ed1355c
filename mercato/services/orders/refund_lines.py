"""Refunds by line (a return): what the returned units paid, from the order's snapshot, counted on
`order_lines.refunded_quantity` so that a line's refunds add up to exactly what it paid (docs/money.md,
"Refunds by line")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import UnprocessableEntity
from mercato.services.orders.models import Order, OrderLine
from mercato.services.orders.pricing.money import units_paid
from mercato.services.orders.schemas import RefundLineIn


@dataclass(frozen=True)
class Returned:
    """The units a refund pays back, and what they paid."""

    units: tuple[tuple[str, int], ...]  # (sku, quantity)
    amount: int
    description: str  # "1 x Linen shirt (SHIRT-M)", as the credit note names them


def paid(order: Order, line: OrderLine) -> int:
    """What the whole line paid: its total less its share of the cart promotions, with its tax where
    the market's prices exclude tax (where they include it, the tax is in the total already)."""
    return line.line_total - line.discount + (0 if order.prices_include_tax else line.tax)


def returned(order: Order, lines: Sequence[OrderLine], asked: Sequence[RefundLineIn]) -> Returned:
    """What refunding `asked` pays back; 422 for a SKU not on the order, named twice, or more units than
    are left to refund."""
    by_sku = {line.sku: line for line in lines}
    errors: dict[str, str] = {}
    seen: set[str] = set()
    amount = 0
    for i, item in enumerate(asked):
        line = by_sku.get(item.sku)
        if line is None:
            errors[f"lines[{i}].sku"] = "is not a line of this order"
            continue
        if item.sku in seen:
            errors[f"lines[{i}].sku"] = "is named twice"
            continue
        seen.add(item.sku)
        left = line.quantity - line.refunded_quantity
        if item.quantity > left:
            errors[f"lines[{i}].quantity"] = (
                f"exceeds the {left} of {line.quantity} left to refund"
                if left
                else "all are refunded already"
            )
            continue
        whole = paid(order, line)
        before = line.refunded_quantity
        amount += units_paid(whole, line.quantity, before + item.quantity) - units_paid(
            whole, line.quantity, before
        )
    if errors:
        raise UnprocessableEntity("These units cannot be refunded.", errors=errors)
    if amount <= 0:
        raise UnprocessableEntity(
            "These units paid nothing: there is nothing to refund for them.",
            errors={"lines": "paid nothing"},
        )
    return Returned(
        units=tuple((item.sku, item.quantity) for item in asked),
        amount=amount,
        description=", ".join(f"{i.quantity} x {by_sku[i.sku].product_name} ({i.sku})" for i in asked),
    )


async def count_refunded(session: AsyncSession, order_id: str, units: Sequence[tuple[str, int]]) -> None:
    """Add the refunded units to their lines, in the refund's transaction (one atomic increment each)."""
    for sku, quantity in units:
        await session.execute(
            update(OrderLine)
            .where(OrderLine.order_id == order_id, OrderLine.sku == sku)
            .values(refunded_quantity=OrderLine.refunded_quantity + quantity)
        )
