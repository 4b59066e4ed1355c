"""The payment provider, through the official Stripe SDK. Pointed at the local sandbox by default
(`stripe_api_base`), at Stripe itself by keys alone.

Every mutating call carries an idempotency key derived from the order, so a retry — by us, by the
reconciler after a crash, by the SDK — reaches the same PaymentIntent and never charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import stripe

from mercato.contracts.currencies import MINOR_UNITS
from mercato.platform import tracing
from mercato.platform.metrics import Metrics
from mercato.services.payments.settings import PaymentsSettings

MAXIMUM_CHARGE = 99_999_999  # Stripe's limit: eight digits of minor units
# Stripe's minimum charge per currency, in minor units (docs.stripe.com/currencies, "Minimum and maximum
# charge amounts"). Stripe asks the equivalent of 0.50 USD in other currencies; we ask one minor unit
# and leave the rest to the provider, whose refusal settles the payment as failed.
MINIMUM_CHARGE = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1500,
    "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500, "INR": 50, "JPY": 50, "MXN": 1000,
    "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200, "RON": 200, "SEK": 300, "SGD": 50, "THB": 1000,
}  # fmt: skip


def _shown(amount: int, currency: str) -> str:
    digits = MINOR_UNITS.get(currency, 2)
    major, minor = divmod(amount, 10**digits)
    return f"{major}.{minor:0{digits}d} {currency}" if digits else f"{major} {currency}"


def outside_charge_limits(amount: int, currency: str) -> str | None:
    """Why the provider would refuse to charge `amount` (minor units) of `currency`; None if it would not."""
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        return f"must be at least {_shown(minimum, currency)}, the payment provider's minimum charge"
    if amount > MAXIMUM_CHARGE:
        return f"must be at most {_shown(MAXIMUM_CHARGE, currency)}, the payment provider's maximum charge"
    return None


class Declined(Exception):
    def __init__(self, *, code: str, message: str, intent_id: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.intent_id = intent_id


class Refused(Exception):
    """The provider refused the request as invalid (Stripe's 400 invalid_request_error): nothing happened
    at the provider, and asking again the same way will be refused again."""

    def __init__(self, *, code: str, message: str, param: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


class ProviderUnavailable(Exception):
    """The provider did not answer or failed: the outcome of the call is unknown."""


MERCATO_ORIGIN = "mercato"


def refund_metadata(refund: stripe.Refund) -> dict[str, str]:
    return refund.metadata.to_dict() if refund.metadata else {}


def made_by_mercato(refund: stripe.Refund) -> bool:
    return refund_metadata(refund).get("origin") == MERCATO_ORIGIN


def authorise_key(order_id: str) -> str:
    return f"mercato:{order_id}:authorise"


@dataclass(frozen=True)
class WebhookEvent:
    """A provider event as a webhook delivers it: its id, type and the object it is about."""

    id: str
    type: str
    object: dict[str, Any]

    @classmethod
    def parse(cls, body: Any) -> WebhookEvent:
        try:
            return cls(id=str(body["id"]), type=str(body["type"]), object=dict(body["data"]["object"]))
        except (KeyError, TypeError) as error:
            raise ValueError("not a provider event") from error


STRIPE = {"peer.service": "stripe"}


class Provider:
    def __init__(self, settings: PaymentsSettings, metrics: Metrics | None = None) -> None:
        """`metrics`: the service's, where each call's latency goes (a command's own, if not given)."""
        self.metrics = metrics or Metrics(settings.service_name)
        # aiohttp: the SDK's HTTPXClient cost ~0.6 ms more CPU per provider call (docs/performance.md)
        self._http = stripe.AIOHTTPClient(timeout=settings.provider_timeout_seconds)
        self.client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
            http_client=self._http,
            max_network_retries=0,  # our callers retry with the same idempotency keys
        )
        self.webhook_secret = settings.stripe_webhook_secret.get_secret_value()

    async def close(self) -> None:
        await self._http.close_async()

    async def _call(self, operation: str, coroutine: Any) -> Any:
        try:
            with tracing.span(f"stripe {operation}", kind=tracing.CLIENT, attributes=STRIPE):
                return await self.metrics.provider_call("stripe", operation, coroutine, refused=_refused)
        except stripe.CardError as error:
            intent = error.error.payment_intent if error.error else None
            raise Declined(
                code=(error.error.decline_code if error.error else None) or error.code or "card_declined",
                message=error.user_message or "The card was declined.",
                intent_id=getattr(intent, "id", None),
            ) from error
        except stripe.InvalidRequestError as error:
            if error.param == "payment_method" or error.code == "resource_missing":
                raise Declined(
                    code="invalid_payment_method", message="The payment method is not usable.", intent_id=None
                ) from error
            raise Refused(
                code=error.code or f"invalid_{error.param or 'request'}"[:64],
                message=(error.error.message if error.error else None) or "The provider refused the request.",
                param=error.param,
            ) from error
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
            raise ProviderUnavailable(str(error)) from error

    async def authorise(
        self, *, order_id: str, amount: int, currency: str, payment_method: str, description: str | None
    ) -> stripe.PaymentIntent:
        """Create and confirm a PaymentIntent that captures at once (automatic capture): checkout captures
        straight after authorising anyway, so one provider call instead of two (and one webhook fewer).
        An intent still `requires_capture` (made with manual capture by an earlier release) is captured
        by `capture`."""
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            "capture_method": "automatic",
            "metadata": {"order_id": order_id},
            "expand": ["payment_method"],
        }
        if description:
            params["description"] = description
        return await self._call(
            "payment_intents.create",
            self.client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": authorise_key(order_id)}
            ),
        )

    async def capture(self, intent_id: str, *, order_id: str) -> stripe.PaymentIntent:
        return await self._call(
            "payment_intents.capture",
            self.client.v1.payment_intents.capture_async(
                intent_id, options={"idempotency_key": f"mercato:{order_id}:capture"}
            ),
        )

    async def cancel(self, intent_id: str, *, order_id: str) -> stripe.PaymentIntent:
        return await self._call(
            "payment_intents.cancel",
            self.client.v1.payment_intents.cancel_async(
                intent_id,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": f"mercato:{order_id}:cancel"},
            ),
        )

    async def refund(self, intent_id: str, *, amount: int, key: str, reason: str) -> stripe.Refund:
        # `origin` tells our own refunds (recorded as they are made) from the dashboard's (recorded
        # from the provider's webhook), so the two paths never record one refund twice.
        metadata = {"reason": reason[:200], "origin": MERCATO_ORIGIN}
        return await self._call(
            "refunds.create",
            self.client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount, "metadata": metadata},
                options={"idempotency_key": key},
            ),
        )

    async def intent(self, intent_id: str) -> stripe.PaymentIntent:
        return await self._call(
            "payment_intents.retrieve", self.client.v1.payment_intents.retrieve_async(intent_id)
        )

    async def all_intents(self) -> list[stripe.PaymentIntent]:
        """Every PaymentIntent the provider holds for this account (for reconciliation)."""
        intents, after = [], None
        while True:
            params: dict[str, Any] = {"limit": 100} | ({"starting_after": after} if after else {})
            page = await self._call(
                "payment_intents.list", self.client.v1.payment_intents.list_async(params=params)
            )
            intents.extend(page.data)
            if not page.has_more or not page.data:
                return intents
            after = page.data[-1].id

    async def refunds(self, intent_id: str) -> list[stripe.Refund]:
        """The intent's succeeded refunds, whoever made them."""
        refunds = await self._call(
            "refunds.list",
            self.client.v1.refunds.list_async(params={"payment_intent": intent_id, "limit": 100}),
        )
        return [refund for refund in refunds.data if refund.status == "succeeded"]

    async def refunded_amount(self, intent_id: str) -> int:
        return sum(refund.amount for refund in await self.refunds(intent_id))

    def verify_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        """Raises ValueError or stripe.SignatureVerificationError when the event is not genuine.

        The SDK's signature check, then a plain parse: most events (the intents' own) are acknowledged
        unread, and building the SDK's Event object for each cost more than handling it."""
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, self.webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        return WebhookEvent.parse(orjson.loads(payload))


def _refused(error: BaseException) -> bool:
    """The provider answered no (a declined card, an invalid request), as opposed to failing."""
    return isinstance(error, stripe.CardError | stripe.InvalidRequestError)
