"""The payments themselves: PaymentMethods, PaymentIntents and their Charges, Refunds, Disputes, Events.

Each public method of `Ledger` is one API operation. It reads and writes the store and returns the
object to answer with, or raises `StripeError`. The caller runs it inside one store transaction, so an
operation either happens whole (object changes, events, outbox rows) or not at all. A card decline
is the exception that proves the rule: at Stripe it changes the intent *and* answers 402, so it is
raised with `stored=True` and the caller commits before answering.
"""

from __future__ import annotations

import contextvars
import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

from mercato.sandbox.payments_cards import (
    DECLINES,
    DISPUTE,
    MAGIC_PAYMENT_METHODS,
    SUCCEED,
    Card,
    Decline,
    tokenise,
)
from mercato.sandbox.payments_store import Store
from mercato.sandbox.payments_wallets import Tokens
from mercato.sandbox.payments_wire import (
    API_VERSION,
    DOC_URL,
    Params,
    StripeError,
    invalid,
    merge_metadata,
    missing,
    new_id,
    now,
    paginate,
    search_page,
    unexpected_state,
)

MAX_AMOUNT = 99_999_999  # Stripe's limit: eight digits of minor units
# Stripe's minimum charge per currency, in minor units (docs.stripe.com/currencies, "Minimum and maximum
# charge amounts"); other currencies need at least one minor unit here.
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
UNSUPPORTED_CURRENCIES = {"cup", "irr", "kpw", "syp"}  # ISO 4217 currencies Stripe does not take
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
LABELS = {
    "payment_intent": "payment_intent",
    "payment_method": "PaymentMethod",
    "charge": "charge",
    "refund": "refund",
    "dispute": "dispute",
    "event": "event",
    "token": "token",
}
ID_PREFIXES = {
    "pi": "payment_intent",
    "pm": "payment_method",
    "ch": "charge",
    "re": "refund",
    "dp": "dispute",
    "evt": "event",
    "tok": "token",
}

# Which request caused the events emitted now (Stripe puts it in `event.request`).
current_request: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "current_request", default=None
)


class Ledger:
    def __init__(self, store: Store, *, webhook_url: str | None, fingerprint_salt: str) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self.fingerprint_salt = fingerprint_salt
        self.tokens = Tokens(store, fingerprint_salt)
        self.on_event: Callable[[], None] = lambda: None

    # --- generic reads ----------------------------------------------------------------------------
    def retrieve(self, kind: str, object_id: str, p: Params | None = None) -> dict[str, Any]:
        if p is not None:
            p.reject_unknown(())  # only `expand`
        found = self.store.get(object_id, kind)
        if found is None:
            raise missing(LABELS[kind], object_id)
        return found

    def resolve(self, object_id: str) -> dict[str, Any] | None:
        """The object an id names, for `expand[]`."""
        kind = ID_PREFIXES.get(object_id.split("_", 1)[0])
        return self.store.get(object_id, kind) if kind else None

    def _save(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.store.update(obj)
        return obj

    # --- events -----------------------------------------------------------------------------------
    def _emit(self, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": dict(current_request.get() or {"id": None, "idempotency_key": None}),
            "type": type_,
        }
        self.store.insert(event)
        if self.webhook_url:
            payload = json.dumps(event, indent=2)
            self.store.enqueue_delivery(event["id"], self.webhook_url, payload, time.time())
            self.on_event()

    def list_events(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"type", "limit", "starting_after", "ending_before"})
        wanted = p.text("type")
        events = self.store.all("event")
        if wanted:
            pattern = re.compile(re.escape(wanted).replace(r"\*", ".*") + "$")
            events = [event for event in events if pattern.match(event["type"])]
        return paginate(events, p, "/v1/events", "event")

    # --- payment methods --------------------------------------------------------------------------
    def create_payment_method(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"type", "card", "billing_details", "metadata"})
        p.choice("type", ["card"], required=True)
        card_params = p.nested("card")
        if card_params is None:
            raise invalid("Missing required param: card.", param="card", code="parameter_missing")
        card_params.reject_unknown({"number", "exp_month", "exp_year", "cvc", "token"})
        wallet = None
        token = card_params.text("token", max_length=255)
        if token is not None:  # a card token, from a wallet (Apple Pay, Google Pay) or Stripe's tests
            card, wallet = self.tokens.redeem(token)
        else:
            card = tokenise(
                card_params.text("number", required=True, max_length=40) or "",
                card_params.integer("exp_month", required=True) or 0,
                card_params.integer("exp_year", required=True) or 0,
                card_params.text("cvc", max_length=10),
                self.fingerprint_salt,
            )
        billing = _billing_details(p.nested("billing_details"))
        return self._insert_payment_method(card, billing, p.metadata(), wallet)

    def _insert_payment_method(
        self,
        card: Card,
        billing_details: dict[str, Any],
        metadata: dict[str, str] | None,
        wallet: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        method = {
            "id": new_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": billing_details,
            "card": {
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "unchecked" if card.cvc_provided else None,
                },
                "country": card.country,
                "display_brand": card.brand,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": card.funding,
                "generated_from": None,
                "last4": card.last4,
                "networks": {"available": [card.brand], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": wallet,
            },
            "created": now(),
            "customer": None,
            "livemode": False,
            "metadata": metadata or {},
            "type": "card",
        }
        self.store.insert(method, {"behaviour": card.behaviour})
        return method

    def _payment_method(self, object_id: str, param: str = "payment_method") -> dict[str, Any]:
        """An existing PaymentMethod, or a fresh one made from one of Stripe's `pm_card_…` test ids."""
        if object_id in MAGIC_PAYMENT_METHODS:
            number = MAGIC_PAYMENT_METHODS[object_id]
            card = tokenise(number, 12, now_year() + 3, "123", self.fingerprint_salt)
            return self._insert_payment_method(card, _billing_details(None), None)
        found = self.store.get(object_id, "payment_method")
        if found is None:
            raise missing("PaymentMethod", object_id, param=param)
        return found

    # --- payment intents --------------------------------------------------------------------------
    def create_intent(self, p: Params) -> dict[str, Any]:
        p.reject_unknown(
            {
                "amount",
                "currency",
                "payment_method",
                "confirm",
                "capture_method",
                "description",
                "metadata",
                "payment_method_types",
                "automatic_payment_methods",
                "receipt_email",
                "statement_descriptor_suffix",
                "return_url",
                "off_session",
            }
        )
        amount = _amount(p, "amount", required=True)
        currency = _currency(p)
        _at_least_the_minimum_charge(amount, currency)
        capture_method = p.choice("capture_method", CAPTURE_METHODS) or "automatic"
        types = p.strings("payment_method_types") or ["card"]
        if types != ["card"]:
            raise invalid(
                "The sandbox supports only the payment method type card.", param="payment_method_types"
            )
        automatic = p.nested("automatic_payment_methods")
        confirm = p.boolean("confirm")
        method_id = p.text("payment_method")
        method = self._payment_method(method_id) if method_id else None
        intent_id = new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": (
                {"allow_redirects": "always", "enabled": automatic.boolean("enabled") or False}
                if automatic
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": f"{intent_id}_secret_{new_id('s', 25)[2:]}",
            "confirmation_method": "automatic",
            "created": now(),
            "currency": currency,
            "customer": None,
            "description": p.text("description", max_length=1000),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": p.metadata() or {},
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": method["id"] if method else None,
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": p.text("receipt_email", max_length=800),
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": p.text("statement_descriptor_suffix", max_length=22),
            "status": "requires_confirmation" if method else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.store.insert(intent)
        if confirm:
            if method is None:
                raise invalid(
                    "You cannot confirm this PaymentIntent because it's missing a payment method. "
                    "Pass a payment_method to confirm it.",
                    param="payment_method",
                    code="parameter_missing",
                )
            return self._confirm(intent, method)
        return intent

    def update_intent(self, intent_id: str, p: Params) -> dict[str, Any]:
        p.reject_unknown({"amount", "currency", "payment_method", "description", "metadata", "receipt_email"})
        intent = self.retrieve("payment_intent", intent_id)
        changes_payment = any(name in p.data for name in ("amount", "currency", "payment_method"))
        if changes_payment and intent["status"] not in CONFIRMABLE:
            raise unexpected_state(
                f"You cannot update this PaymentIntent's amount, currency or payment method because it "
                f"has a status of {intent['status']}."
            )
        amount = _amount(p, "amount", required=True) if "amount" in p.data else intent["amount"]
        currency = _currency(p) if "currency" in p.data else intent["currency"]
        _at_least_the_minimum_charge(amount, currency)
        intent["amount"], intent["currency"] = amount, currency
        if p.text("payment_method"):
            intent["payment_method"] = self._payment_method(p.text("payment_method") or "")["id"]
            intent["status"] = "requires_confirmation"
        if "description" in p.data:
            intent["description"] = p.text("description", max_length=1000) or None
        if "receipt_email" in p.data:
            intent["receipt_email"] = p.text("receipt_email", max_length=800) or None
        intent["metadata"] = merge_metadata(intent["metadata"], p)
        return self._save(intent)

    def confirm_intent(self, intent_id: str, p: Params) -> dict[str, Any]:
        p.reject_unknown({"payment_method", "capture_method", "receipt_email", "return_url", "off_session"})
        intent = self.retrieve("payment_intent", intent_id)
        if intent["status"] not in CONFIRMABLE:
            raise unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be confirmed: "
                f"{', '.join(CONFIRMABLE)}."
            )
        if "capture_method" in p.data:
            intent["capture_method"] = p.choice("capture_method", CAPTURE_METHODS)
        method_id = p.text("payment_method") or intent["payment_method"]
        if not method_id:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Update it with a payment_method, or pass one to confirm.",
                param="payment_method",
                code="parameter_missing",
            )
        return self._confirm(intent, self._payment_method(method_id))

    def _confirm(self, intent: dict[str, Any], method: dict[str, Any]) -> dict[str, Any]:
        """Authorise the card: one new Charge per attempt; a decline answers 402 and keeps the intent."""
        behaviour = self.store.private(method["id"]).get("behaviour", SUCCEED)
        decline = DECLINES.get(behaviour)
        manual = intent["capture_method"] == "manual"
        charge = self._new_charge(intent, method, decline, captured=decline is None and not manual)
        intent["latest_charge"] = charge["id"]
        if decline is not None:
            error = {
                "type": "card_error",
                "code": decline.code,
                "decline_code": decline.decline_code,
                "doc_url": DOC_URL + decline.code.replace("_", "-"),
                "message": decline.message,
                "charge": charge["id"],
                "payment_method": method,
                "payment_method_type": None,
            }
            if decline.param:
                error["param"] = decline.param
            intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
            self._save(intent)
            self._emit("payment_intent.payment_failed", intent)
            raise StripeError(
                402,
                "card_error",
                decline.message,
                code=decline.code,
                param=decline.param,
                stored=True,
                decline_code=decline.decline_code,
                charge=charge["id"],
                payment_intent=intent,
                payment_method=method,
            )
        intent.update(payment_method=method["id"], last_payment_error=None)
        if manual:
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._save(intent)
            self._emit("payment_intent.amount_capturable_updated", intent)
            return intent
        intent.update(status="succeeded", amount_received=intent["amount"])
        self._save(intent)
        self._emit("payment_intent.succeeded", intent)
        self._maybe_dispute(charge, behaviour)
        return intent

    def capture_intent(self, intent_id: str, p: Params) -> dict[str, Any]:
        p.reject_unknown({"amount_to_capture", "metadata", "statement_descriptor_suffix", "final_capture"})
        intent = self.retrieve("payment_intent", intent_id)
        if intent["status"] != "requires_capture":
            raise unexpected_state(
                f"This PaymentIntent could not be captured because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be captured: requires_capture."
            )
        amount = p.integer("amount_to_capture", minimum=1)
        capturable = intent["amount_capturable"]
        if amount is None:
            amount = capturable
        if amount > capturable:
            raise invalid(
                f"The amount to capture ({amount}) must be less than or equal to the amount capturable "
                f"({capturable}).",
                param="amount_to_capture",
                code="amount_too_large",
            )
        charge = self.retrieve("charge", intent["latest_charge"])
        charge.update(captured=True, amount_captured=amount)
        self._save(charge)
        # A partial capture releases the rest of the authorisation: nothing stays capturable.
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        intent["metadata"] = merge_metadata(intent["metadata"], p)
        self._save(intent)
        self._emit("payment_intent.succeeded", intent)
        behaviour = self.store.private(charge["payment_method"]).get("behaviour", SUCCEED)
        self._maybe_dispute(charge, behaviour)
        return intent

    def cancel_intent(self, intent_id: str, p: Params) -> dict[str, Any]:
        p.reject_unknown({"cancellation_reason"})
        reason = p.choice("cancellation_reason", CANCELLATION_REASONS)
        intent = self.retrieve("payment_intent", intent_id)
        if intent["status"] not in CANCELABLE:
            raise unexpected_state(
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be canceled: "
                f"{', '.join(CANCELABLE)}."
            )
        intent.update(status="canceled", canceled_at=now(), cancellation_reason=reason, amount_capturable=0)
        self._save(intent)
        self._emit("payment_intent.canceled", intent)
        return intent

    def list_intents(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"limit", "starting_after", "ending_before"})
        return paginate(self.store.all("payment_intent"), p, "/v1/payment_intents", "payment_intent")

    def search_intents(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"query", "limit", "page"})
        matches = _compile_query(p.text("query", required=True) or "")
        found = [intent for intent in self.store.all("payment_intent") if matches(intent)]
        return search_page(found, p, "/v1/payment_intents/search")

    # --- charges, disputes ------------------------------------------------------------------------
    def _new_charge(
        self, intent: dict[str, Any], method: dict[str, Any], decline: Decline | None, *, captured: bool
    ) -> dict[str, Any]:
        card = method["card"]
        declined = decline is not None
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if captured else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": method["billing_details"],
            "calculated_statement_descriptor": "MERCATO SANDBOX",
            "captured": captured,
            "created": now(),
            "currency": intent["currency"],
            "customer": None,
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": decline.code if declined else None,
            "failure_message": decline.message if declined else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "declined_by_network" if declined else "approved_by_network",
                "reason": decline.decline_code if declined else None,
                "risk_level": "normal",
                "seller_message": (
                    "The bank did not return any further details with this decline."
                    if declined
                    else "Payment complete."
                ),
                "type": "issuer_declined" if declined else "authorized",
            },
            "paid": not declined,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {
                "card": {
                    "brand": card["brand"],
                    "checks": card["checks"],
                    "country": card["country"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "fingerprint": card["fingerprint"],
                    "funding": card["funding"],
                    "last4": card["last4"],
                    "network": card["brand"],
                    "three_d_secure": None,
                    "wallet": None,
                },
                "type": "card",
            },
            "receipt_email": intent["receipt_email"],
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
            "status": "failed" if declined else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.store.insert(charge)
        return charge

    def _maybe_dispute(self, charge: dict[str, Any], behaviour: str) -> None:
        """The dispute test card: the cardholder disputes the payment as soon as it is captured."""
        if behaviour != DISPUTE:
            return
        dispute = {
            "id": new_id("dp"),
            "object": "dispute",
            "amount": charge["amount_captured"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "evidence": {},
            "evidence_details": {
                "due_by": now() + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": charge["payment_method_details"]["card"]["brand"],
                    "network_reason_code": "10.4",
                },
                "type": "card",
            },
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self.store.insert(dispute)
        charge["disputed"] = True
        self._save(charge)
        self._emit("charge.dispute.created", dispute)

    # --- refunds ----------------------------------------------------------------------------------
    def create_refund(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"payment_intent", "charge", "amount", "reason", "metadata"})
        intent_id, charge_id = p.text("payment_intent"), p.text("charge")
        if not intent_id and not charge_id:
            raise invalid(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if intent_id:
            intent = self.store.get(intent_id, "payment_intent")
            if intent is None:
                raise missing("payment_intent", intent_id, param="payment_intent")
            if intent["status"] != "succeeded" or not intent["latest_charge"]:
                raise invalid(
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    param="payment_intent",
                    code="charge_not_refundable",
                )
            if charge_id and charge_id != intent["latest_charge"]:
                raise invalid(f"Charge {charge_id} does not belong to {intent_id}.", param="charge")
            charge_id = intent["latest_charge"]
        charge = self.store.get(charge_id or "", "charge")
        if charge is None:
            raise missing("charge", charge_id or "", param="charge")
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                f"Charge {charge['id']} has not been captured; cancel its PaymentIntent to release it.",
                param="charge",
                code="charge_not_refundable",
            )
        if charge["disputed"]:
            raise invalid(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.", code="charge_disputed"
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = p.integer("amount", minimum=1)
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                param="amount",
                code="amount_too_large",
            )
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": p.metadata() or {},
            "payment_intent": charge["payment_intent"],
            "reason": p.choice("reason", REFUND_REASONS),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.store.insert(refund)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self._save(charge)
        self._emit("charge.refunded", charge, previous)
        return refund

    def list_refunds(self, p: Params) -> dict[str, Any]:
        p.reject_unknown({"payment_intent", "charge", "limit", "starting_after", "ending_before"})
        refunds = self.store.all("refund")
        for field in ("payment_intent", "charge"):
            wanted = p.text(field)
            if wanted:
                refunds = [refund for refund in refunds if refund[field] == wanted]
        return paginate(refunds, p, "/v1/refunds", "refund")


# --- helpers --------------------------------------------------------------------------------------


def now_year() -> int:
    return time.gmtime().tm_year


def _amount(p: Params, name: str, *, required: bool) -> int:
    amount = p.integer(name, required=required, minimum=1) or 0
    if amount > MAX_AMOUNT:
        raise invalid(f"Amount must be no more than {MAX_AMOUNT}.", param=name, code="amount_too_large")
    return amount


def _currency(p: Params) -> str:
    currency = p.text("currency", required=True) or ""
    if not re.fullmatch(r"[A-Za-z]{3}", currency) or currency.lower() in UNSUPPORTED_CURRENCIES:
        raise invalid(f"Invalid currency: {currency.lower()}.", param="currency")
    return currency.lower()


def _at_least_the_minimum_charge(amount: int, currency: str) -> None:
    """Stripe refuses a PaymentIntent below the currency's minimum charge, worded like this."""
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        shown = str(minimum) if currency in ZERO_DECIMAL else f"{minimum // 100}.{minimum % 100:02d}"
        raise invalid(f"Amount must be at least {shown} {currency}", param="amount", code="amount_too_small")


def _billing_details(p: Params | None) -> dict[str, Any]:
    address_fields = ("city", "country", "line1", "line2", "postal_code", "state")
    details: dict[str, Any] = {
        "address": dict.fromkeys(address_fields),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if p is None:
        return details
    p.reject_unknown({"address", "email", "name", "phone"})
    for name in ("email", "name", "phone"):
        details[name] = p.text(name, max_length=800)
    address = p.nested("address")
    if address is not None:
        address.reject_unknown(address_fields)
        details["address"] = {name: address.text(name, max_length=800) for name in address_fields}
    return details


# --- search query language (the subset PaymentIntents support) ------------------------------------

_CLAUSE = re.compile(
    r"""^\s*(?P<negate>-)?
    (?:metadata\[(?P<q1>['"])(?P<key>[^'"]+)(?P=q1)\]|(?P<field>[a-z_]+))
    \s*(?P<op>:|>=|<=|>|<)\s*
    (?:(?P<q2>['"])(?P<text>.*?)(?P=q2)|(?P<number>-?\d+))\s*$""",
    re.VERBOSE,
)
SEARCH_FIELDS = {"amount", "created", "currency", "status", "metadata"}


def _compile_query(query: str) -> Callable[[dict[str, Any]], bool]:
    """Compile `metadata['order_id']:'42' AND status:'succeeded'` (or OR-joined clauses) to a predicate."""
    has_and, has_or = " AND " in query, " OR " in query
    if has_and and has_or:
        raise invalid("Invalid query: AND and OR cannot be combined in one query.", param="query")
    parts = re.split(r"\s+(?:AND|OR)\s+", query.strip())
    clauses = [_compile_clause(part) for part in parts]
    if has_or:
        return lambda intent: any(clause(intent) for clause in clauses)
    return lambda intent: all(clause(intent) for clause in clauses)


def _compile_clause(text: str) -> Callable[[dict[str, Any]], bool]:
    match = _CLAUSE.match(text)
    if match is None:
        raise invalid(f"Invalid query: could not parse '{text}'.", param="query")
    field, key, op = match["field"], match["key"], match["op"]
    value: str | int = match["text"] if match["text"] is not None else int(match["number"])
    if field is not None and field not in SEARCH_FIELDS - {"metadata"}:
        raise invalid(f"Invalid query: the field '{field}' is not supported.", param="query")
    numeric = field in ("amount", "created")
    if numeric != isinstance(value, int) or (op != ":" and not numeric):
        raise invalid(
            f"Invalid query: '{text}' compares a field with a value of the wrong kind.", param="query"
        )

    def actual(intent: dict[str, Any]) -> Any:
        return intent["metadata"].get(key) if key is not None else intent[field]

    comparisons: dict[str, Callable[[Any], bool]] = {
        ":": lambda got: got == (value.lower() if field == "currency" and isinstance(value, str) else value),
        ">": lambda got: got > value,
        "<": lambda got: got < value,
        ">=": lambda got: got >= value,
        "<=": lambda got: got <= value,
    }
    compare = comparisons[op]
    if match["negate"]:
        return lambda intent: not compare(actual(intent))
    return lambda intent: compare(actual(intent))
