"""The wallet sheets' pure logic, tested on any machine: what the app asks Apple Pay and Google Pay for,
and how what they hand back becomes the provider's token call (Gateway.tokenise_wallet).

The sheets themselves (PassKit through rubicon-objc, Google Pay through Chaquopy) are in wallet_ios.py
and wallet_android.py, imported only on the device. The merchant settings come from config.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from shop.errors import ApiError

# The card networks both wallets may offer, as each names them.
APPLE_NETWORKS = ("Visa", "MasterCard", "AmEx")  # PKPaymentNetworkVisa, …MasterCard, …Amex
GOOGLE_NETWORKS = ("AMEX", "MASTERCARD", "VISA")
GOOGLE_AUTH_METHODS = ("PAN_ONLY", "CRYPTOGRAM_3DS")
PK_MERCHANT_CAPABILITY_3DS = 1 << 0  # PKMerchantCapability3DS
# The Stripe API version Google's servers create the token with ("stripe:version"; Stripe's Google Pay
# guide names one; any published version works).
STRIPE_VERSION = "2018-10-31"
GOOGLE_ENVIRONMENTS = {"TEST": 3, "PRODUCTION": 1}  # WalletConstants.ENVIRONMENT_TEST / _PRODUCTION


@dataclass
class WalletPayment:
    """What a wallet sheet hands the app — never a card number.

    Apple Pay: the PKPaymentToken's paymentData (base64), its network, instrument name and transaction id,
    for the provider's POST /v1/tokens (pk_token…). Google Pay: the token JSON Google's servers made at the
    provider (paymentMethodData.tokenizationData.token). `finish(ok)` tells the sheet how it ended (Apple
    Pay's sheet waits for it and shows a tick or a cross)."""

    wallet: str
    payment_data: str | None = None
    network: str | None = None
    token_json: str | None = None
    instrument_name: str | None = None
    transaction_id: str | None = None
    finish: Callable[[bool], None] | None = field(default=None, repr=False, compare=False)

    def done(self, ok: bool) -> None:
        if self.finish is not None:
            self.finish(ok)


def decimal_amount(money: dict) -> str:
    """Money in minor units → the decimal string both wallets want ("24.50"); 0-decimal currencies too."""
    digits = 0 if money.get("currency", "EUR").upper() in ("JPY", "KRW", "CLP", "VND") else 2
    return str(Decimal(int(money["amount"])).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


# --- Apple Pay ---------------------------------------------------------------------------------------
def apple_pay_request(total: dict, *, merchant_id: str, country: str, merchant_name: str) -> dict:
    """What PKPaymentRequest is given (wallet_ios.py sets exactly these properties)."""
    if not merchant_id.startswith("merchant."):
        raise ValueError(f"an Apple Pay merchant identifier starts with 'merchant.': {merchant_id!r}")
    return {
        "merchantIdentifier": merchant_id,
        "countryCode": country.upper(),
        "currencyCode": total.get("currency", "EUR").upper(),
        "supportedNetworks": list(APPLE_NETWORKS),
        "merchantCapabilities": PK_MERCHANT_CAPABILITY_3DS,
        # The last summary item is the total, labelled with the business's name (Apple's rule).
        "paymentSummaryItems": [{"label": merchant_name, "amount": decimal_amount(total)}],
    }


def apple_pay_payment(
    payment_data: bytes,
    network: str | None,
    instrument_name: str | None = None,
    transaction_id: str | None = None,
    finish: Callable[[bool], None] | None = None,
) -> WalletPayment:
    """PKPayment.token → what the provider's POST /v1/tokens takes (pk_token is the paymentData, base64)."""
    return WalletPayment(
        "apple_pay",
        payment_data=base64.b64encode(payment_data).decode(),
        network=network or None,
        instrument_name=instrument_name or None,
        transaction_id=transaction_id or None,
        finish=finish,
    )


def apple_pay_token_form(paid: WalletPayment) -> dict[str, str]:
    """The provider's POST /v1/tokens form for an Apple Pay payment (what Stripe's iOS SDK sends)."""
    form = {"pk_token": paid.payment_data or "", "pk_token_payment_network": paid.network or "Visa"}
    if paid.instrument_name:
        form["pk_token_instrument_name"] = paid.instrument_name
    if paid.transaction_id:
        form["pk_token_transaction_id"] = paid.transaction_id
    return form


# --- Google Pay --------------------------------------------------------------------------------------
def _card_method(tokenization: dict | None = None) -> dict:
    method = {
        "type": "CARD",
        "parameters": {
            "allowedAuthMethods": list(GOOGLE_AUTH_METHODS),
            "allowedCardNetworks": list(GOOGLE_NETWORKS),
        },
    }
    if tokenization is not None:
        method["tokenizationSpecification"] = tokenization
    return method


def google_is_ready_request() -> dict:
    """IsReadyToPayRequest: no tokenization needed to ask."""
    return {"apiVersion": 2, "apiVersionMinor": 0, "allowedPaymentMethods": [_card_method()]}


def google_pay_request(
    payment: dict, total: dict, *, country: str, merchant_name: str, merchant_id: str, environment: str
) -> dict:
    """PaymentDataRequest (Google Pay API v2) whose token Google's servers create at Stripe with the
    publishable key the gateway handed the checkout screen."""
    if environment not in GOOGLE_ENVIRONMENTS:
        raise ValueError(f"Google Pay's environment is TEST or PRODUCTION, not {environment!r}")
    if environment == "PRODUCTION" and not merchant_id:
        raise ValueError("Google Pay in PRODUCTION needs the merchant id from the Google Pay console")
    tokenization = {
        "type": "PAYMENT_GATEWAY",
        "parameters": {
            "gateway": "stripe",
            "stripe:version": STRIPE_VERSION,
            "stripe:publishableKey": payment["publishable_key"],
        },
    }
    merchant = {"merchantName": merchant_name} | ({"merchantId": merchant_id} if merchant_id else {})
    return {
        "apiVersion": 2,
        "apiVersionMinor": 0,
        "allowedPaymentMethods": [_card_method(tokenization)],
        "transactionInfo": {
            "totalPriceStatus": "FINAL",
            "totalPrice": decimal_amount(total),
            "currencyCode": total.get("currency", "EUR").upper(),
            "countryCode": country.upper(),
        },
        "merchantInfo": merchant,
    }


def google_pay_payment(payment_data_json: str) -> WalletPayment:
    """PaymentData.toJson() → the token Google made at the provider, and the card's network."""
    data = json.loads(payment_data_json)
    method = data["paymentMethodData"]
    tokenization = method["tokenizationData"]
    if tokenization.get("type") != "PAYMENT_GATEWAY":
        raise ValueError(f"expected a PAYMENT_GATEWAY token, got {tokenization.get('type')!r}")
    network = (method.get("info") or {}).get("cardNetwork")
    return WalletPayment("google_pay", token_json=tokenization["token"], network=network)


def google_pay_token_id(paid: WalletPayment) -> str:
    """The provider's token id (tok_…) inside Google's token JSON."""
    token = json.loads(paid.token_json or "{}").get("id", "")
    if not token.startswith("tok_"):
        raise ValueError("Google Pay's token is not a card token of the provider")
    return token


class WalletUnavailable(ApiError):
    def __init__(
        self, detail: str = "Paying with the wallet isn't available on this device. Please use a card."
    ):
        super().__init__(400, "Wallet unavailable", detail)


class WalletCancelled(ApiError):
    def __init__(self):
        super().__init__(400, "Payment cancelled", "You closed the wallet. Nothing was charged.")
