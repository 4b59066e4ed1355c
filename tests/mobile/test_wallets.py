"""Apple Pay and Google Pay in the app (mobile/src/shop/wallets.py), as Stripe models them: the wallet
hands the app a payment (never a card number), the app turns it into a card token and a card
PaymentMethod at the provider, and checkout takes that like any pm_….

The sheets themselves (wallet_ios.py, wallet_android.py) need a phone. Here: the requests they send,
checked against Apple's and Google's documented shapes, and what they hand back — built by the same
functions the sheets call, from a PKPayment's fields and from a PaymentData JSON as Google documents it
(its token made by the sandbox playing Google Pay's TEST environment) — through the real sandbox and
platform to an order, with the sheet told how it ended."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from shop.device import Device
from shop.wallets import (
    WalletPayment,
    apple_pay_payment,
    apple_pay_request,
    apple_pay_token_form,
    decimal_amount,
    google_is_ready_request,
    google_pay_payment,
    google_pay_request,
)

from tests.mobile.conftest import find, launch, register, started, tap, texts
from tests.mobile.test_journey import _add_and_open_checkout, _fill_checkout

SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}
PK_PAYMENT_DATA = b'{"version":"EC_v1","data":"dGVzdA==","signature":"","header":{}}'


class WalletPhone(Device):
    """A phone whose sheet hands over what PassKit / Google Pay would, through the app's own functions."""

    def __init__(self, platform: str, network: str = "Visa"):
        super().__init__(platform, {"ios": "apple_pay", "android": "google_pay"}[platform])
        self.network = network
        self.asked: list = []
        self.finished: list[bool] = []

    async def wallet_payment(self, payment: dict, total: dict, country: str) -> WalletPayment:
        self.asked.append((total, country))
        if self.wallet == "apple_pay":  # PKPayment.token: paymentData (NSData), paymentMethod, transaction id
            return apple_pay_payment(
                PK_PAYMENT_DATA, self.network, f"{self.network} 4242", "txn-1", finish=self.finished.append
            )
        async with httpx.AsyncClient() as client:  # Google's servers make the token at the provider
            made = await client.post(
                f"{payment['api_base']}/_sandbox/wallets/google_pay",
                headers={"Authorization": f"Bearer {payment['publishable_key']}"},
                data={"network": self.network.lower()},
            )
        paid = google_pay_payment(json.dumps(_payment_data(made.text, self.network.upper())))
        paid.finish = self.finished.append
        return paid


def _payment_data(token: str, network: str) -> dict:
    """PaymentData.toJson() as Google's API reference describes it (PaymentData object, API v2)."""
    return {
        "apiVersion": 2,
        "apiVersionMinor": 0,
        "paymentMethodData": {
            "type": "CARD",
            "description": f"{network.capitalize()} •••• 4242",
            "info": {"cardNetwork": network, "cardDetails": "4242"},
            "tokenizationData": {"type": "PAYMENT_GATEWAY", "token": token},
        },
    }


PAYMENT = {"provider": "stripe", "publishable_key": "pk_test_x", "api_base": "https://api.stripe.com"}


def test_google_pay_request_is_the_documented_shape():
    request = google_pay_request(
        PAYMENT,
        {"amount": 2450, "currency": "eur"},
        country="de",
        merchant_name="Mercato",
        merchant_id="",
        environment="TEST",
    )
    assert request == {
        "apiVersion": 2,
        "apiVersionMinor": 0,
        "allowedPaymentMethods": [
            {
                "type": "CARD",
                "parameters": {
                    "allowedAuthMethods": ["PAN_ONLY", "CRYPTOGRAM_3DS"],
                    "allowedCardNetworks": ["AMEX", "MASTERCARD", "VISA"],
                },
                "tokenizationSpecification": {
                    "type": "PAYMENT_GATEWAY",
                    "parameters": {
                        "gateway": "stripe",
                        "stripe:version": "2018-10-31",
                        "stripe:publishableKey": "pk_test_x",
                    },
                },
            }
        ],
        "transactionInfo": {
            "totalPriceStatus": "FINAL",
            "totalPrice": "24.50",
            "currencyCode": "EUR",
            "countryCode": "DE",
        },
        "merchantInfo": {"merchantName": "Mercato"},
    }
    ready = google_is_ready_request()
    assert ready["apiVersion"] == 2 and "tokenizationSpecification" not in ready["allowedPaymentMethods"][0]
    production = google_pay_request(
        PAYMENT,
        {"amount": 5, "currency": "EUR"},
        country="DE",
        merchant_name="Mercato",
        merchant_id="BCR2DN4T000000",
        environment="PRODUCTION",
    )
    assert production["merchantInfo"]["merchantId"] == "BCR2DN4T000000"
    assert production["transactionInfo"]["totalPrice"] == "0.05"
    for bad in (
        {"environment": "PRODUCTION", "merchant_id": ""},
        {"environment": "SANDBOX", "merchant_id": ""},
    ):
        with pytest.raises(ValueError):
            google_pay_request(PAYMENT, {"amount": 1}, country="DE", merchant_name="M", **bad)


def test_apple_pay_request_and_token_form():
    fields = apple_pay_request(
        {"amount": 100000, "currency": "EUR"},
        merchant_id="merchant.org.mercato.shop",
        country="de",
        merchant_name="Mercato",
    )
    assert fields == {
        "merchantIdentifier": "merchant.org.mercato.shop",
        "countryCode": "DE",
        "currencyCode": "EUR",
        "supportedNetworks": ["Visa", "MasterCard", "AmEx"],
        "merchantCapabilities": 1,  # PKMerchantCapability3DS
        "paymentSummaryItems": [{"label": "Mercato", "amount": "1000.00"}],
    }
    with pytest.raises(ValueError):
        apple_pay_request({"amount": 1}, merchant_id="org.mercato.shop", country="DE", merchant_name="M")
    paid = apple_pay_payment(b"\x00\xffdata", "MasterCard", "MasterCard 4444", "abc123")
    assert apple_pay_token_form(paid) == {
        "pk_token": base64.b64encode(b"\x00\xffdata").decode(),
        "pk_token_payment_network": "MasterCard",
        "pk_token_instrument_name": "MasterCard 4444",
        "pk_token_transaction_id": "abc123",
    }
    assert decimal_amount({"amount": 1234, "currency": "JPY"}) == "1234"


def test_google_pay_answer_without_a_gateway_token_is_refused():
    answer = _payment_data("{}", "VISA")
    answer["paymentMethodData"]["tokenizationData"]["type"] = "DIRECT"
    with pytest.raises(ValueError):
        google_pay_payment(json.dumps(answer))


@pytest.mark.e2e
@pytest.mark.parametrize("phone", ["ios", "android"])
async def test_pay_with_the_phone_wallet(platform, tmp_path, phone):
    app = launch(platform.gateway, tmp_path / "app-data", device=WalletPhone(phone))
    await started(app)
    shop = app.shop
    try:
        await register(app)
        await _add_and_open_checkout(shop)
        await tap(shop.screen.checkout)
        await _fill_checkout(shop, "")  # an address; no card typed
        wallet = find(shop.actions, "wallet")
        assert (
            wallet is not None
            and wallet.text == {"ios": "Pay with Apple Pay", "android": "Pay with Google Pay"}[phone]
        )
        await tap(wallet)
        assert type(shop.screen).__name__ == "ConfirmationScreen", texts(shop.root)
        order = shop.screen.order
        intents = httpx.get(
            f"{platform.sandbox}/v1/payment_intents/search",
            headers=SANDBOX_KEY,
            params={"query": f"metadata['order_id']:'{order['id']}'"},
        ).json()["data"]
        method = httpx.get(
            f"{platform.sandbox}/v1/payment_methods/{intents[0]['payment_method']}", headers=SANDBOX_KEY
        )
        assert method.json()["card"]["wallet"]["type"] == shop.device.wallet
        assert shop.device.finished == [True], "the sheet was told the payment went through"
        [(total, country)] = shop.device.asked
        assert total == order["totals"]["total"] and country == "DE"
    finally:
        await app.shop.gateway.close()


@pytest.mark.e2e
async def test_a_wallet_payment_the_provider_refuses_fails_on_the_sheet(platform, tmp_path):
    app = launch(platform.gateway, tmp_path / "app-data", device=WalletPhone("ios", network="Discover"))
    await started(app)
    shop = app.shop
    try:
        await register(app)
        await _add_and_open_checkout(shop)
        await tap(shop.screen.checkout)
        await _fill_checkout(shop, "")
        await tap(find(shop.actions, "wallet"))
        assert type(shop.screen).__name__ == "CheckoutScreen"
        assert shop.device.finished == [False], "the sheet shows the failure"
        assert "not accepted" in texts(shop.root).lower() or "invalid" in texts(shop.root).lower()
        await tap(shop.tab_buttons["orders"])
        assert shop.screen.items == [], "no order"
    finally:
        await app.shop.gateway.close()


@pytest.mark.e2e
async def test_no_wallet_button_on_the_desktop(app):
    shop = app.shop
    await register(app)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    assert find(shop.actions, "wallet") is None
    assert find(shop.actions, "place-order") is not None
