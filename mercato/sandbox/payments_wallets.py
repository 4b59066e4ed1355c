"""Card tokens and wallets (Apple Pay, Google Pay), the way Stripe models them.

A wallet never hands the app a card number. What reaches the provider is a single-use card *token*
(`tok_…`) whose card says how it was tokenised (`tokenization_method: apple_pay | google_pay`); the
app turns it into a PaymentMethod with `POST /v1/payment_methods type=card card[token]=tok_…`, and
that PaymentMethod's `card.wallet` names the wallet. Where the token comes from:

- **Apple Pay**: the app posts the PKPayment's payment data to `POST /v1/tokens` as `pk_token` (what
  Stripe's iOS SDK does). In test mode Stripe "recognises test keys and returns a successful test
  card token" whatever card is in the Wallet; so does the sandbox (a Visa, Mastercard or Amex test
  card, after `pk_token_payment_network`).
- **Google Pay**: Google's servers create the token at the provider (tokenisation type
  PAYMENT_GATEWAY, gateway "stripe") and hand the app its JSON in `tokenizationData.token`. Google
  cannot reach a local sandbox, so `POST /_sandbox/wallets/google_pay` plays Google Pay's TEST
  environment: it answers that JSON for a test card.

Stripe's documented test tokens (`tok_visa`, `tok_chargeDeclined`, …) are accepted as `card[token]`
too, reusable as at Stripe. Any other token is single use: a second PaymentMethod from it is refused
with Stripe's `token_already_used`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from mercato.sandbox.payments_cards import Card, tokenise
from mercato.sandbox.payments_store import Store
from mercato.sandbox.payments_wire import Params, StripeError, invalid, missing, new_id, now

WALLETS = ("apple_pay", "google_pay")

# Stripe's test tokens (docs: "Testing" → tokens), by the test card each stands for.
TEST_TOKENS: dict[str, str] = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_amex": "378282246310005",
    "tok_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
}

# The successful test card a wallet payment yields in test mode, by the card network the wallet names.
_WALLET_TEST_CARDS = {"visa": "4242424242424242", "mastercard": "5555555555554444", "amex": "378282246310005"}


class Tokens:
    """Single-use card tokens in the sandbox's store (kind `token`), and the cards behind them."""

    def __init__(self, store: Store, fingerprint_salt: str) -> None:
        self.store = store
        self.salt = fingerprint_salt

    def _test_card(self, network: str | None) -> Card:
        number = _WALLET_TEST_CARDS.get((network or "visa").lower())
        if number is None:
            raise invalid(
                f"Invalid payment network: {network}. The sandbox's test wallets hold Visa, Mastercard "
                "or Amex cards.",
                param="pk_token_payment_network",
            )
        return tokenise(number, 12, _year() + 3, None, self.salt)

    def create(self, p: Params) -> dict[str, Any]:
        """`POST /v1/tokens` with Apple Pay's payment data (`pk_token`): a card token from the Wallet."""
        p.reject_unknown(
            {"pk_token", "pk_token_instrument_name", "pk_token_payment_network", "pk_token_transaction_id"}
        )
        p.text("pk_token", required=True, max_length=20_000)
        card = self._test_card(p.text("pk_token_payment_network", max_length=40))
        return self._insert(card, "apple_pay")

    def google_pay(self, p: Params) -> dict[str, Any]:
        """The token Google Pay's TEST environment hands the app (as JSON in `tokenizationData.token`)."""
        p.reject_unknown({"network"})
        return self._insert(self._test_card(p.text("network", max_length=40)), "google_pay")

    def _insert(self, card: Card, wallet: str | None) -> dict[str, Any]:
        token = {
            "id": new_id("tok"),
            "object": "token",
            "card": {
                "id": new_id("card"),
                "object": "card",
                "brand": {"visa": "Visa", "mastercard": "MasterCard", "amex": "American Express"}.get(
                    card.brand, card.brand
                ),
                "country": card.country,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": card.funding,
                "last4": card.last4,
                "tokenization_method": wallet,
            },
            "client_ip": None,
            "created": now(),
            "livemode": False,
            "type": "card",
            "used": False,
        }
        self.store.insert(token, {"card": dataclasses.asdict(card), "wallet": wallet})
        return token

    def redeem(self, token_id: str) -> tuple[Card, dict[str, Any] | None]:
        """The card behind `card[token]`, and the `card.wallet` its PaymentMethod shows; uses the token up."""
        if token_id in TEST_TOKENS:
            return tokenise(TEST_TOKENS[token_id], 12, _year() + 3, None, self.salt), None
        token = self.store.get(token_id, "token")
        if token is None:
            raise missing("token", token_id, param="card[token]")
        if token["used"]:
            raise StripeError(
                400,
                "invalid_request_error",
                f"You cannot use a Stripe token more than once: {token_id}.",
                code="token_already_used",
                param="card[token]",
            )
        self.store.update(token | {"used": True})
        private = self.store.private(token_id)
        card = Card(**private["card"])
        wallet = private["wallet"]
        if wallet not in WALLETS:
            return card, None
        return card, {"type": wallet, wallet: {}, "dynamic_last4": card.last4}


def _year() -> int:
    return time.gmtime().tm_year
