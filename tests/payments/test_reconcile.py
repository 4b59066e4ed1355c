"""Reconciliation finds what differs between our records and the provider's."""

from __future__ import annotations

import stripe

from mercato.platform.ids import new_id
from mercato.services.payments.reconcile import reconcile
from tests.payments.test_payments import _card, _payment


async def test_reconcile_reports_refunds_and_captures_made_behind_our_back(payments):
    clean, refunded_elsewhere = _payment(payments.sandbox), _payment(payments.sandbox, amount=4000)
    for body in (clean, refunded_elsewhere):
        assert (await payments.post("/internal/payments", json=body)).status_code == 201
    provider = stripe.StripeClient("sk_test_mercato_sandbox", base_addresses={"api": payments.sandbox})
    intent_id = (await payments.get(f"/internal/payments/{refunded_elsewhere['order_id']}")).json()[
        "provider_intent_id"
    ]
    provider.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1500})  # e.g. in the dashboard
    stray_order = new_id("ord")
    stray = provider.v1.payment_intents.create(
        params={
            "amount": 999,
            "currency": "eur",
            "payment_method": _card(payments.sandbox),
            "confirm": True,
            "metadata": {"order_id": stray_order},
        }
    )

    differences = await reconcile(payments.app.state.db, payments.app.state.provider)

    mine = {
        (d.order_id, d.problem)
        for d in differences
        if d.order_id in {clean["order_id"], refunded_elsewhere["order_id"], stray_order}
    }
    assert mine == {
        (refunded_elsewhere["order_id"], "refunded amount differs"),
        (stray_order, "money taken that no payment records"),
    }
    detail = next(d for d in differences if d.order_id == refunded_elsewhere["order_id"])
    assert (detail.ours, detail.provider) == ("0", "1500")
    assert any(d.intent_id == stray.id for d in differences)
