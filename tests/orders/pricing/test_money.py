"""Refunds split tax proportionally and cumulatively: in any pieces, exactly the order's tax in all."""

from __future__ import annotations

import itertools
import random

from mercato.services.orders.pricing.money import refunded_tax, units_paid


def test_a_partial_refund_carries_its_share_of_the_tax():
    # DE order: total 5493 with 717 VAT at 19% and 65 at 7%. Refund 2000, then 1000, then the rest.
    tax_lines, total = [717, 65], 5493
    steps = [0, 2000, 3000, 5493]
    cumulative = [refunded_tax(tax_lines, total, r) for r in steps]
    # 782 x 2000/5493 = 284.73 → 285: 717 x 0.3641 = 261.06, 65 x 0.3641 = 23.67 → 261 + 24
    assert cumulative[1] == [261, 24]
    assert cumulative[2] == [392, 35]  # 782 x 3000/5493 = 427.09 → 427
    assert cumulative[3] == [717, 65]
    per_refund = [sum(b) - sum(a) for a, b in itertools.pairwise(cumulative)]
    assert per_refund == [285, 142, 355] and sum(per_refund) == 782


def test_refunds_in_any_pieces_refund_exactly_the_tax():
    rng = random.Random(16)
    for _ in range(1000):
        tax_lines = [rng.randint(0, 5000) for _ in range(rng.randint(1, 3))]
        total = sum(tax_lines) + rng.randint(1, 50000)
        refunded, before = 0, [0] * len(tax_lines)
        while refunded < total:
            refunded = min(total, refunded + rng.randint(1, total))
            now = refunded_tax(tax_lines, total, refunded)
            assert sum(now) >= sum(before)
            before = now
        assert before == tax_lines


def test_a_lines_units_refund_exactly_what_it_paid_in_any_pieces():
    # 3 units that paid 1000 together (a discount made it uneven): 333.33 → 333, 666.67 → 667, 1000
    assert [units_paid(1000, 3, n) for n in range(4)] == [0, 333, 667, 1000]
    rng = random.Random(8)
    for _ in range(1000):
        paid, quantity = rng.randint(0, 100000), rng.randint(1, 20)
        done, pieces = 0, []
        while done < quantity:
            step = rng.randint(1, quantity - done)
            pieces.append(units_paid(paid, quantity, done + step) - units_paid(paid, quantity, done))
            done += step
        assert sum(pieces) == paid and all(piece >= 0 for piece in pieces)
