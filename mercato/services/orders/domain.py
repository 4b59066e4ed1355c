"""The order state machine (DESIGN.md): which transitions exist, and who may ask for them.

    pending_payment → placed → confirmed → processing → shipped → delivered
    cancelled (before shipping) → refunded;  returned (after delivery) → refunded

`pending_payment` is the durable record of a checkout in flight; if checkout cannot complete, the order
becomes `failed`: it was never placed, is never shown in a customer's history, and exists only so
that a retried request gets the same answer and operators can see what happened.
"""

from __future__ import annotations

import re
from enum import StrEnum

from mercato.platform.errors import Conflict


class OrderState(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    FAILED = "failed"
    PLACED = "placed"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"


TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PENDING_PAYMENT: frozenset({OrderState.PLACED, OrderState.FAILED}),
    OrderState.PLACED: frozenset({OrderState.CONFIRMED, OrderState.PROCESSING, OrderState.CANCELLED}),
    OrderState.CONFIRMED: frozenset({OrderState.PROCESSING, OrderState.CANCELLED}),
    OrderState.PROCESSING: frozenset({OrderState.SHIPPED, OrderState.CANCELLED}),
    OrderState.SHIPPED: frozenset({OrderState.DELIVERED}),
    OrderState.DELIVERED: frozenset({OrderState.RETURNED}),
    OrderState.CANCELLED: frozenset({OrderState.REFUNDED}),
    OrderState.RETURNED: frozenset({OrderState.REFUNDED}),
    OrderState.FAILED: frozenset(),
    OrderState.REFUNDED: frozenset(),
}

HIDDEN_FROM_CUSTOMERS = frozenset({OrderState.FAILED})


def may_cancel(state: str) -> bool:
    """Whether an order in `state` can still be cancelled (before shipping)."""
    return OrderState.CANCELLED in TRANSITIONS[OrderState(state)]


def check_transition(current: str, target: OrderState) -> None:
    if target not in TRANSITIONS[OrderState(current)]:
        raise Conflict(
            f"An order that is {current} cannot become {target}.",
            slug="illegal-state-change",
            state=current,
        )


# --- order numbers ---------------------------------------------------------------------------------

FIRST_ORDER_NUMBER = 10001
_NUMBER = re.compile(r"^(?:[Mm]-?)?([1-9][0-9]{0,17})$")


def order_number(number: int | None) -> str | None:
    """The short human number people see and say (`M-10042`); None until the order is placed."""
    return f"M-{number}" if number is not None else None


def parse_order_number(text: str) -> int | None:
    """`M-10042`, `m10042` or `10042` → 10042; anything else (an order id, a customer id) → None. Order
    ids start with 0 for decades yet, numbers never do, so a bare number cannot be an id's start."""
    match = _NUMBER.match(text.strip())
    return int(match.group(1)) if match else None
