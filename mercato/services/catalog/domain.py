"""Stock reservation invariants.

A reservation holds stock for an order while payment happens. It ends exactly one way:
committed (the units leave on_hand), released (the units return), or expired (its TTL passed before
either; the units return). A reservation that has ended never changes again — except that a committed
one becomes restocked when its order is cancelled before shipping (the units return to on_hand) — and
repeating the transition that ended it is a no-op, so the orders service may retry commit and release
safely.
"""

from __future__ import annotations

from enum import StrEnum

from mercato.platform.errors import Conflict


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"
    RESTOCKED = "restocked"  # committed, then its order was cancelled: the units went back on hand


def check_transition(current: str, target: ReservationStatus) -> bool:
    """True if the transition must be applied, False if it already happened (idempotent retry).

    Raises Conflict for an impossible transition, e.g. committing a released reservation."""
    if current == target:
        return False
    if current == ReservationStatus.ACTIVE:
        return target != ReservationStatus.RESTOCKED or _refuse(current, target)
    if target == ReservationStatus.RESTOCKED and current == ReservationStatus.COMMITTED:
        return True
    if target == ReservationStatus.RELEASED and current == ReservationStatus.EXPIRED:
        return False  # the stock is already back; releasing again changes nothing
    return _refuse(current, target)


def _refuse(current: str, target: ReservationStatus) -> bool:
    raise Conflict(
        f"The reservation is {current} and cannot become {target}.",
        reservation_status=current,
    )
