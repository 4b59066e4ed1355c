"""Payment events: staged in the outbox with the capture or refund record they report, once each."""

from __future__ import annotations

import json
import time

import stripe
from sqlalchemy import select

from mercato.platform.tables import outbox
from mercato.services.payments.settings import SANDBOX_WEBHOOK_SECRET
from tests.payments.test_payments import _payment


async def _events(client, event_type: str | None = None) -> list[dict]:
    """Outbox rows in the order they were staged, as {type, aggregate_type, aggregate_id, payload}."""
    async with client.app.state.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [
        {
            "type": row["event_type"],
            "aggregate_type": row["aggregate_type"],
            "aggregate_id": row["aggregate_id"],
            "payload": row["envelope"]["payload"],
        }
        for row in rows
        if event_type is None or row["event_type"] == event_type
    ]


async def _pay(payments, **kwargs) -> tuple[dict, dict]:
    body = _payment(payments.sandbox, **kwargs)
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 201, response.text
    return body, response.json()


async def _refund(payments, order_id: str, **body):
    return await payments.post(f"/internal/payments/{order_id}/refunds", json=body)


def _money(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


async def test_a_capture_is_published_once(payments):
    body, paid = await _pay(payments, amount=4200)
    again = await payments.post("/internal/payments", json=body)
    assert again.status_code == 200

    [captured] = await _events(payments)
    assert (captured["type"], captured["aggregate_type"], captured["aggregate_id"]) == (
        "PaymentCaptured",
        "payment",
        paid["id"],
    )
    assert captured["payload"] | {"captured_at": None} == {
        "payment_id": paid["id"],
        "order_id": body["order_id"],
        "customer_id": body["customer_id"],
        "amount": _money(4200),
        "captured_at": None,
    }


async def test_a_declined_payment_publishes_nothing(payments):
    body = _payment(payments.sandbox, card="4000000000009995")
    assert (await payments.post("/internal/payments", json=body)).status_code == 402
    assert await _events(payments) == []


async def test_each_refund_is_published_with_the_running_total_and_refused_or_repeated_ones_not(payments):
    body, paid = await _pay(payments, amount=3000)
    order = body["order_id"]

    assert (await _refund(payments, order, refund_key="r1", amount=1000)).status_code == 200
    assert (await _refund(payments, order, refund_key="r1", amount=1000)).status_code == 200  # replay
    assert (await _refund(payments, order, refund_key="r2", amount=2001)).status_code == 422
    assert (await _refund(payments, order, refund_key="r3", reason="duplicate")).status_code == 200

    refunds = await _events(payments, "PaymentRefunded")
    assert {e["aggregate_id"] for e in refunds} == {paid["id"]}
    assert [
        (e["payload"]["amount"], e["payload"]["total_refunded"], e["payload"]["reason"]) for e in refunds
    ] == [
        (_money(1000), _money(1000), "requested_by_customer"),
        (_money(2000), _money(3000), "duplicate"),
    ]
    assert {(e["payload"]["order_id"], e["payload"]["customer_id"]) for e in refunds} == {
        (order, body["customer_id"])
    }
    assert [e["type"] for e in await _events(payments)] == [
        "PaymentCaptured",
        "PaymentRefunded",
        "PaymentRefunded",
    ]


async def test_undoing_a_captured_payment_of_a_failed_checkout_publishes_the_refund(payments):
    """Its capture was published already; whoever adds up money must see it given back."""
    body, paid = await _pay(payments, amount=2500)
    assert (await payments.post(f"/internal/payments/{body['order_id']}/void")).json()["status"] == "refunded"

    [refunded] = await _events(payments, "PaymentRefunded")
    assert refunded["aggregate_id"] == paid["id"]
    assert refunded["payload"]["reason"] == "checkout_failed"
    assert refunded["payload"]["total_refunded"] == _money(2500)


def _charge_refunded(
    payments, intent_id: str, event_id: str, *, amount_refunded: int = 0
) -> tuple[str, dict[str, str]]:
    """The provider's `charge.refunded` webhook, signed as the provider signs it."""
    event = {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "ch_x",
                "object": "charge",
                "payment_intent": intent_id,
                "amount_refunded": amount_refunded,
            }
        },
    }
    payload = json.dumps(event)
    signed = stripe.WebhookSignature._compute_signature(
        f"{int(time.time())}.{payload}", SANDBOX_WEBHOOK_SECRET
    )
    return payload, {"Stripe-Signature": f"t={int(time.time())},v1={signed}"}


async def test_a_refund_made_at_the_provider_is_published_once(payments):
    body, paid = await _pay(payments, amount=5000)
    provider = stripe.StripeClient("sk_test_mercato_sandbox", base_addresses={"api": payments.sandbox})
    provider.v1.refunds.create(
        params={"payment_intent": paid["provider_intent_id"], "amount": 1500}
    )  # dashboard
    payload, header = _charge_refunded(
        payments, paid["provider_intent_id"], "evt_refunded_outside", amount_refunded=1500
    )
    for _ in range(2):  # redelivered: applied once
        assert (await payments.post("/webhooks/stripe", content=payload, headers=header)).status_code == 204

    [refunded] = await _events(payments, "PaymentRefunded")
    assert refunded["aggregate_id"] == paid["id"]
    assert refunded["payload"]["order_id"] == body["order_id"]
    assert (refunded["payload"]["amount"], refunded["payload"]["total_refunded"]) == (
        _money(1500),
        _money(1500),
    )


async def test_the_webhook_of_our_own_refund_never_records_it_again(payments):
    """The provider may deliver `charge.refunded` before our own refund's record commits; whatever the
    order, one refund is one record and one PaymentRefunded (a second would mean two refund e-mails)."""
    body, paid = await _pay(payments, amount=5000)
    order_id, intent_id = body["order_id"], paid["provider_intent_id"]
    # The refund exists at the provider, and its webhook arrives, before our record of it commits...
    await payments.app.state.provider.refund(
        intent_id, amount=700, key=f"mercato:{order_id}:refund:refund-700", reason="goodwill"
    )
    payload, header = _charge_refunded(payments, intent_id, "evt_our_own_refund", amount_refunded=700)
    assert (await payments.post("/webhooks/stripe", content=payload, headers=header)).status_code == 204
    # ...then the refund call completes (the provider answers the same refund for the same key).
    refund = await _refund(payments, order_id, amount=700, refund_key="refund-700", reason="goodwill")
    assert refund.status_code == 200, refund.text

    assert len(await _events(payments, "PaymentRefunded")) == 1
    trail = (await payments.get(f"/internal/payments/{order_id}")).json()
    assert trail["refunded"] == _money(700)
    assert [r["kind"] for r in trail["records"]].count("refunded") == 1
