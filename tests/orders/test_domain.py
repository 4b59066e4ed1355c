"""The order state machine of DESIGN.md: legal moves pass, everything else is a clear 409."""

from __future__ import annotations

import itertools

import pytest

from mercato.platform.errors import Conflict
from mercato.services.orders.domain import TRANSITIONS, OrderState, check_transition

HAPPY_PATH = [
    "pending_payment",
    "placed",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "returned",
    "refunded",
]


def test_the_happy_path_and_its_detours_are_legal():
    for current, target in itertools.pairwise(HAPPY_PATH):
        check_transition(current, OrderState(target))
    for before_shipping in ("placed", "confirmed", "processing"):
        check_transition(before_shipping, OrderState.CANCELLED)
    check_transition("cancelled", OrderState.REFUNDED)
    check_transition("pending_payment", OrderState.FAILED)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("shipped", "cancelled"),
        ("delivered", "cancelled"),
        ("placed", "returned"),
        ("refunded", "placed"),
        ("failed", "placed"),
        ("pending_payment", "shipped"),
        ("cancelled", "placed"),
    ],
)
def test_illegal_transitions_are_conflicts(current, target):
    with pytest.raises(Conflict) as raised:
        check_transition(current, OrderState(target))
    assert raised.value.extensions["state"] == current


def test_every_state_is_in_the_machine():
    assert set(TRANSITIONS) == set(OrderState)
