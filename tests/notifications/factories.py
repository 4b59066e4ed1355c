"""Keyword-only factories for notifications tests: events, their envelopes and broker deliveries."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from mercato.contracts.events import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    Event,
    OptIns,
    OrderLineSnapshot,
    OrderPlaced,
    OrderStatusChanged,
    PaymentRefunded,
)
from mercato.contracts.money import Money
from mercato.platform.ids import new_id
from mercato.platform.messaging import Delivery

_counter = itertools.count(1)


def email_address() -> str:
    """A fresh address, so each test finds only its own mail in the shared sink."""
    return f"kunde-{uuid.uuid4().hex[:12]}@example.com"


def phone_number() -> str:
    """A fresh, valid E.164 mobile number."""
    return f"+49151{uuid.uuid4().int % 10**8:08d}"


def _now() -> datetime:
    return datetime.now(UTC)


def registered(
    *,
    email: str,
    phone: str | None = None,
    sms: bool = False,
    email_opt_in: bool = True,
    name: str = "Ada Lovelace",
    language: str = "en",
    customer_id: str | None = None,
    push: bool = False,
) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer_id or new_id("cus"),
        email=email,
        name=name,
        phone=phone,
        language=language,
        opt_ins=OptIns(email=email_opt_in, sms=sms, push=push),
        registered_at=_now(),
    )


def updated(
    *,
    customer_id: str,
    email: str,
    phone: str | None = None,
    sms: bool = False,
    email_opt_in: bool = True,
    name: str = "Ada Lovelace",
    language: str = "en",
    push: bool = False,
) -> CustomerUpdated:
    return CustomerUpdated(
        customer_id=customer_id,
        email=email,
        name=name,
        phone=phone,
        language=language,
        opt_ins=OptIns(email=email_opt_in, sms=sms, push=push),
        updated_at=_now(),
    )


def apns_token() -> str:
    """A fresh APNs device token: 64 hexadecimal characters."""
    return uuid.uuid4().hex + uuid.uuid4().hex


def fcm_token() -> str:
    """A fresh FCM registration token, shaped like one (`<instance id>:APA91b…`)."""
    return f"{uuid.uuid4().hex[:22]}:APA91b{uuid.uuid4().hex}{uuid.uuid4().hex}"


def erased(*, customer_id: str) -> CustomerErased:
    return CustomerErased(customer_id=customer_id, erased_at=_now())


def line(
    *,
    name: str = "Classic Tee",
    quantity: int = 1,
    amount: int = 2999,
    currency: str = "EUR",
    sku: str | None = None,
) -> OrderLineSnapshot:
    n = next(_counter)
    return OrderLineSnapshot(
        sku=sku or f"SKU-{n}",
        product_id=new_id("prd"),
        name=name,
        quantity=quantity,
        unit_price=Money(amount=amount, currency=currency),
    )


def placed(
    *,
    customer_id: str,
    order_id: str | None = None,
    lines: list[OrderLineSnapshot] | None = None,
    number: str | None = None,
    invoice_number: str | None = None,
) -> OrderPlaced:
    """An order of `lines` (one Classic Tee by default); the total is their sum."""
    lines = lines or [line()]
    currency = lines[0].unit_price.currency
    return OrderPlaced(
        order_id=order_id or new_id("ord"),
        number=number,
        invoice_number=invoice_number,
        customer_id=customer_id,
        total=Money(amount=sum(x.quantity * x.unit_price.amount for x in lines), currency=currency),
        lines=tuple(lines),
        placed_at=_now(),
    )


def status_changed(
    *,
    customer_id: str,
    order_id: str,
    to_state: str,
    from_state: str = "confirmed",
    reason: str | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=order_id,
        customer_id=customer_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changed_at=_now(),
        carrier=carrier,
        tracking_number=tracking_number,
    )


def refunded(
    *,
    customer_id: str,
    order_id: str,
    amount: int,
    total_refunded: int | None = None,
    currency: str = "EUR",
    reason: str | None = None,
) -> PaymentRefunded:
    return PaymentRefunded(
        payment_id=new_id("pay"),
        order_id=order_id,
        customer_id=customer_id,
        amount=Money(amount=amount, currency=currency),
        total_refunded=Money(amount=amount if total_refunded is None else total_refunded, currency=currency),
        reason=reason,
        refunded_at=_now(),
    )


def envelope(event: Event) -> dict[str, Any]:
    """The event as the broker carries it (a fresh event id each call)."""
    return event.envelope()


def delivery(envelope: dict[str, Any]) -> Delivery:
    return Delivery(orjson.dumps(envelope))
