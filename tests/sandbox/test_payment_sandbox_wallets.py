"""Wallets at the payment sandbox, as Stripe models them: Apple Pay's payment data becomes a card token
(`POST /v1/tokens pk_token=…`), Google Pay's TEST environment hands out a token, and a PaymentMethod made
from either (`card[token]`) is a card whose `card.wallet` names the wallet — which the real `stripe` SDK
then pays with. The app does the first two steps with the publishable key; Mercato sees only `pm_…`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from tests.sandbox.test_payment_sandbox import PUBLISHABLE_KEY, TOPOLOGY, Sandbox

APPLE_PAY_PAYMENT_DATA = base64.b64encode(
    json.dumps({"version": "EC_v1", "data": "c2FuZGJveA==", "signature": "", "header": {}}).encode()
).decode()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("wallet-sandbox")
    sandbox = Sandbox(TOPOLOGY, root / "payments.db", root / "sandbox.log")
    sandbox.start()
    yield sandbox
    sandbox.stop()


def _publishable(sandbox: Sandbox, path: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}{path}", data=data, headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"}
    )


def _apple_pay_token(sandbox: Sandbox, network: str = "Visa") -> dict[str, Any]:
    response = _publishable(
        sandbox,
        "/v1/tokens",
        {
            "pk_token": APPLE_PAY_PAYMENT_DATA,
            "pk_token_instrument_name": f"{network} 1234",
            "pk_token_payment_network": network,
            "pk_token_transaction_id": "sandbox-transaction",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def _payment_method(sandbox: Sandbox, token: str) -> httpx.Response:
    return _publishable(sandbox, "/v1/payment_methods", {"type": "card", "card[token]": token})


def _pay(sandbox: Sandbox, payment_method: str) -> Any:
    return sandbox.client().v1.payment_intents.create(
        params={"amount": 2590, "currency": "eur", "payment_method": payment_method, "confirm": True}
    )


def test_apple_pay_payment_data_becomes_a_card_payment_method_with_its_wallet(sandbox: Sandbox) -> None:
    token = _apple_pay_token(sandbox, "MasterCard")
    assert token["id"].startswith("tok_") and token["used"] is False
    assert token["card"]["tokenization_method"] == "apple_pay"
    assert token["card"]["last4"] == "4444"  # the sandbox's Mastercard test card, as Stripe's test mode

    created = _payment_method(sandbox, token["id"])
    assert created.status_code == 200, created.text
    method = created.json()
    assert method["type"] == "card" and method["card"]["brand"] == "mastercard"
    assert method["card"]["wallet"] == {"type": "apple_pay", "apple_pay": {}, "dynamic_last4": "4444"}

    intent = _pay(sandbox, method["id"])
    assert intent.status == "succeeded"
    assert sandbox.client().v1.payment_methods.retrieve(method["id"]).card.wallet.type == "apple_pay"


def test_a_wallet_token_pays_once(sandbox: Sandbox) -> None:
    token = _apple_pay_token(sandbox)
    assert _payment_method(sandbox, token["id"]).status_code == 200
    again = _payment_method(sandbox, token["id"])
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "token_already_used"
    assert sandbox.client().v1.tokens.retrieve(token["id"]).used is True


def test_google_pay_test_environment_token_pays(sandbox: Sandbox) -> None:
    handed = _publishable(sandbox, "/_sandbox/wallets/google_pay", {"network": "visa"})
    assert handed.status_code == 200, handed.text
    # What the app finds in Google Pay's `paymentMethodData.tokenizationData.token`: the token as JSON.
    token = json.loads(handed.text)
    assert token["card"]["tokenization_method"] == "google_pay"

    method = _payment_method(sandbox, token["id"]).json()
    assert method["card"]["wallet"]["type"] == "google_pay" and method["card"]["last4"] == "4242"
    assert _pay(sandbox, method["id"]).status == "succeeded"


def test_stripe_test_tokens_are_reusable_cards_without_a_wallet(sandbox: Sandbox) -> None:
    for _ in range(2):
        method = _payment_method(sandbox, "tok_visa").json()
        assert method["card"]["last4"] == "4242" and method["card"]["wallet"] is None

    declining = _payment_method(sandbox, "tok_chargeDeclined").json()
    with pytest.raises(stripe.CardError) as declined:
        _pay(sandbox, declining["id"])
    assert declined.value.code == "card_declined"


@pytest.mark.parametrize(
    ("path", "data", "status", "code"),
    [
        ("/v1/payment_methods", {"type": "card", "card[token]": "tok_unknown"}, 404, "resource_missing"),
        ("/v1/tokens", {"pk_token_payment_network": "Visa"}, 400, "parameter_missing"),
        ("/v1/tokens", {"pk_token": "x", "pk_token_payment_network": "Diners"}, 400, None),
        ("/v1/tokens", {"card[number]": "4242424242424242"}, 400, None),
    ],
)
def test_bad_wallet_requests_get_stripe_errors(
    sandbox: Sandbox, path: str, data: dict[str, str], status: int, code: str | None
) -> None:
    response = _publishable(sandbox, path, data)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    if code:
        assert error["code"] == code


def test_only_the_secret_key_reads_tokens_back(sandbox: Sandbox) -> None:
    token = _apple_pay_token(sandbox)
    response = httpx.get(
        f"{sandbox.url}/v1/tokens/{token['id']}", headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"}
    )
    assert response.status_code == 401
