"""Payments through the official Stripe SDK against the provider sandbox: what orders relies on."""

from __future__ import annotations

import json
import time

import httpx
import stripe

from mercato.platform.ids import new_id
from mercato.services.payments.settings import SANDBOX_WEBHOOK_SECRET

SECRET = {"Authorization": "Bearer sk_test_mercato_sandbox"}


def _card(sandbox: str, number: str = "4242424242424242") -> str:
    response = httpx.post(
        f"{sandbox}/v1/payment_methods",
        headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2031",
            "card[cvc]": "123",
        },
    )
    return response.json()["id"]


def _payment(
    sandbox: str, *, amount: int = 2500, card: str = "4242424242424242", order_id: str | None = None
) -> dict:
    return {
        "order_id": order_id or new_id("ord"),
        "customer_id": new_id("cus"),
        "amount": {"amount": amount, "currency": "EUR"},
        "payment_method": _card(sandbox, card),
    }


def _kinds(payment: dict) -> list[str]:
    return [r["kind"] for r in payment["records"]]


async def test_a_payment_is_authorised_captured_and_recorded(payments):
    body = _payment(payments.sandbox)
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 201, response.text
    paid = response.json()
    assert paid["status"] == "captured" and paid["captured"]["amount"] == 2500
    assert paid["card"] == {"brand": "visa", "last4": "4242"}
    trail = (await payments.get(f"/internal/payments/{body['order_id']}")).json()
    assert _kinds(trail) == ["intent_created", "authorised", "captured"]
    intent = httpx.get(
        f"{payments.sandbox}/v1/payment_intents/{paid['provider_intent_id']}", headers=SECRET
    ).json()
    assert intent["status"] == "succeeded" and intent["metadata"]["order_id"] == body["order_id"]


async def test_paying_twice_for_one_order_charges_once(payments):
    body = _payment(payments.sandbox)
    first = await payments.post("/internal/payments", json=body)
    again = await payments.post("/internal/payments", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["provider_intent_id"] == first.json()["provider_intent_id"]
    different = await payments.post(
        "/internal/payments", json=body | {"amount": {"amount": 2600, "currency": "EUR"}}
    )
    assert different.status_code == 409


async def test_a_decline_is_402_with_its_code_and_is_recorded(payments):
    body = _payment(payments.sandbox, card="4000000000009995")
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 402
    assert response.json()["decline_code"] == "insufficient_funds"
    trail = (await payments.get(f"/internal/payments/{body['order_id']}")).json()
    assert trail["status"] == "declined" and _kinds(trail) == ["failed"]


async def test_refunds_partial_then_the_rest_never_more(payments):
    body = _payment(payments.sandbox, amount=3000)
    await payments.post("/internal/payments", json=body)
    order = body["order_id"]
    partial = await payments.post(
        f"/internal/payments/{order}/refunds", json={"refund_key": "r1", "amount": 1000}
    )
    assert partial.json()["status"] == "partially_refunded" and partial.json()["refunded"]["amount"] == 1000
    replay = await payments.post(
        f"/internal/payments/{order}/refunds", json={"refund_key": "r1", "amount": 1000}
    )
    assert replay.json()["refunded"]["amount"] == 1000  # the same refund, not a second one
    too_much = await payments.post(
        f"/internal/payments/{order}/refunds", json={"refund_key": "r2", "amount": 2001}
    )
    assert too_much.status_code == 422
    rest = await payments.post(f"/internal/payments/{order}/refunds", json={"refund_key": "r3"})
    assert rest.json()["status"] == "refunded" and rest.json()["refunded"]["amount"] == 3000
    trail = (await payments.get(f"/internal/payments/{order}")).json()
    assert _kinds(trail) == ["intent_created", "authorised", "captured", "refunded", "refunded"]


async def test_void_undoes_whatever_the_payment_reached(payments):
    captured = _payment(payments.sandbox)
    await payments.post("/internal/payments", json=captured)
    voided = (await payments.post(f"/internal/payments/{captured['order_id']}/void")).json()
    assert voided["status"] == "refunded"  # a capture is undone by a refund
    assert (await payments.post(f"/internal/payments/{new_id('ord')}/void")).status_code == 204  # never paid


async def test_after_a_crash_resolve_finds_the_payment_by_its_idempotency_key(payments):
    """The process died after the provider captured but before anything was recorded."""
    body = _payment(payments.sandbox)
    provider = payments.app.state.provider  # the real adapter's call (it captures), then "the process dies"
    intent = await provider.authorise(
        order_id=body["order_id"],
        amount=2500,
        currency="EUR",
        payment_method=body["payment_method"],
        description=f"Mercato order {body['order_id']}",
    )
    assert intent.status == "succeeded"
    from mercato.services.payments.models import Payment

    async with payments.app.state.db.unit_of_work() as session:  # what the crashed attempt had claimed
        session.add(
            Payment(
                id=new_id("pay"),
                order_id=body["order_id"],
                customer_id=body["customer_id"],
                amount=2500,
                currency="EUR",
                payment_method=body["payment_method"],
                status="pending",
                captured_amount=0,
                refunded_amount=0,
                created_at=_now(),
                updated_at=_now(),
            )
        )

    resolved = (await payments.post(f"/internal/payments/{body['order_id']}/resolve")).json()
    assert resolved["status"] == "captured" and resolved["provider_intent_id"] == intent.id


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_webhooks_need_a_valid_signature_and_apply_once(payments):
    body = _payment(payments.sandbox, card="4000000000000259")  # this card is disputed after capture
    paid = (await payments.post("/internal/payments", json=body)).json()
    event = {
        "id": "evt_dispute_1",
        "object": "event",
        "type": "charge.dispute.created",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "dp_1",
                "object": "dispute",
                "amount": 2500,
                "payment_intent": paid["provider_intent_id"],
                "reason": "fraudulent",
            }
        },
    }
    payload = json.dumps(event)
    forged = await payments.post(
        "/webhooks/stripe", content=payload, headers={"Stripe-Signature": "t=1,v1=abc"}
    )
    assert forged.status_code == 400
    signed = stripe.WebhookSignature._compute_signature(
        f"{int(time.time())}.{payload}", SANDBOX_WEBHOOK_SECRET
    )
    header = {"Stripe-Signature": f"t={int(time.time())},v1={signed}"}
    for _ in range(2):  # redelivered: applied once
        assert (await payments.post("/webhooks/stripe", content=payload, headers=header)).status_code == 204
    trail = (await payments.get(f"/internal/payments/{body['order_id']}")).json()
    assert _kinds(trail).count("disputed") == 1
