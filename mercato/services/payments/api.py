"""Payments HTTP routes. Internal ones serve the orders service; the webhook is the provider's door;
the back office reads the payment trail under /admin/v1 (staff token checked by the gateway, roles here).

These routes take the database rather than a unit of work: a payment spans provider calls, and the
use cases commit short transactions around them (see service.py).
"""

from __future__ import annotations

from typing import Annotated

import stripe
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from mercato.platform.app import get_database
from mercato.platform.db import Database
from mercato.platform.errors import BadRequest
from mercato.platform.pagination import Page, Paging
from mercato.platform.staff import Staff, requires
from mercato.services.payments import refunds, service
from mercato.services.payments.provider import Provider
from mercato.services.payments.schemas import OrderId, PaymentIn, PaymentOut, RefundIn, StaffPaymentOut

internal = APIRouter(prefix="/internal/payments", tags=["internal (orders → payments)"])
webhooks = APIRouter(tags=["provider webhooks"])
admin = APIRouter(prefix="/admin/v1", tags=["back office: payments"])

DB = Annotated[Database, Depends(get_database)]


def _provider(request: Request) -> Provider:
    return request.app.state.provider


ProviderDep = Annotated[Provider, Depends(_provider)]


@internal.post(
    "",
    status_code=201,
    response_model=PaymentOut,
    responses={
        200: {"description": "The order was paid before: the same payment"},
        402: {"description": "Declined; `decline_code` says why"},
        409: {
            "description": "The order already has a payment with other details, or the provider "
            "refused the capture"
        },
        422: {
            "description": "Invalid, or beyond what the provider can charge (its minimum and maximum); "
            "or the provider refused the request (`payment-refused`: the payment is `failed`, nothing "
            "was charged); or a gift card cannot pay (`gift-card-invalid`: `errors` `gift_cards[i]`, "
            "`reasons`) or the rest needs a `payment_method` — nothing debited"
        },
        503: {"description": "The provider did not answer: the outcome is unknown"},
    },
)
async def pay(body: PaymentIn, db: DB, provider: ProviderDep, response: Response) -> PaymentOut:
    """Debit the gift cards given (in order), then authorise and capture the rest with the client's payment
    method token; `tenders` says how it was paid."""
    payment, created = await service.pay(db, provider, body)
    response.status_code = 201 if created else 200
    return payment


@internal.get("/{order_id}", response_model=PaymentOut)
async def payment(order_id: OrderId, db: DB) -> PaymentOut:
    """The order's payment with its full, append-only record trail."""
    return await service.payment_with_records(db, order_id)


@internal.post("/{order_id}/resolve", response_model=PaymentOut)
async def resolve(order_id: OrderId, db: DB, provider: ProviderDep) -> PaymentOut:
    """Ask the provider what happened (e.g. after a crash) and record it."""
    return await service.resolve(db, provider, order_id)


@internal.post("/{order_id}/void", response_model=PaymentOut, responses={204: {"description": "No payment"}})
async def void(order_id: OrderId, db: DB, provider: ProviderDep) -> PaymentOut | Response:
    """Undo the order's payment, whatever stage it reached: release the hold or refund the capture."""
    result = await refunds.void(db, provider, order_id)
    return result if result is not None else Response(status_code=204)


@internal.post(
    "/{order_id}/refunds",
    response_model=PaymentOut,
    responses={409: {"description": "Nothing captured to refund, or the provider refused the refund"}},
)
async def refund(order_id: OrderId, body: RefundIn, db: DB, provider: ProviderDep) -> PaymentOut:
    """Refund all or part of a captured payment; repeating a `refund_key` never refunds twice."""
    return await refunds.refund(db, provider, order_id, body)


@webhooks.post("/webhooks/stripe", status_code=204)
async def stripe_webhook(
    request: Request,
    db: DB,
    provider: ProviderDep,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Response:
    """Provider events, accepted only with a valid `Stripe-Signature`; each is applied once."""
    payload = await request.body()
    try:
        event = provider.verify_webhook(payload, signature or "")
    except (ValueError, stripe.SignatureVerificationError):
        raise BadRequest("The webhook signature is not valid.") from None
    await refunds.handle_provider_event(db, provider, event)
    return Response(status_code=204)


@admin.get("/payments", response_model=Page[StaffPaymentOut])
async def staff_payments(
    staff: Annotated[Staff, requires("operations", "support")],
    db: DB,
    paging: Paging,
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[StaffPaymentOut]:
    """The audit trail of money: payments newest first (`order_id` finds an order's), each with
    every record — authorisation, capture, refunds, voids, disputes — its amounts, the provider's
    ids, when, and which staff member asked for a refund. Cards show as brand and last four only."""
    rows = await service.staff_payments(
        db,
        order_id=order_id,
        customer_id=customer_id,
        before=paging.position.get("before"),
        limit=paging.fetch,
    )
    return paging.page(rows, lambda last: {"before": last.id})
