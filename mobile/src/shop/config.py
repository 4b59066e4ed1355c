"""The app's one setting: where the gateway is. Everything else (the payment provider's publishable key
and URL, wallets) comes from the gateway at run time (GET /mobile/v1/checkout)."""

from __future__ import annotations

import os

DEFAULT_GATEWAY = "http://127.0.0.1:8080"  # `make up` on this machine; a release build sets the shop's URL


def gateway_url() -> str:
    return os.environ.get("MERCATO_GATEWAY_URL", DEFAULT_GATEWAY).rstrip("/")


# The wallets' merchant settings (docs/mobile.md, "Paying with a wallet"). A release build sets them here
# (a phone has no environment variables); the environment overrides them for desktop runs and tests.
MERCHANT_NAME = os.environ.get("MERCATO_MERCHANT_NAME", "Mercato")  # the total's label on both sheets
MERCHANT_COUNTRY = os.environ.get("MERCATO_MERCHANT_COUNTRY", "DE")  # where the shop takes payments
# Apple Pay: the merchant id registered in the Apple Developer account (and in the app's entitlement).
APPLE_MERCHANT_ID = os.environ.get("MERCATO_APPLE_MERCHANT_ID", "merchant.org.mercato.shop")
# Google Pay: TEST shows test cards and needs no approval; PRODUCTION needs the merchant id from the
# Google Pay & Wallet console and the app approved there.
GOOGLE_PAY_ENVIRONMENT = os.environ.get("MERCATO_GOOGLE_PAY_ENVIRONMENT", "TEST")
GOOGLE_PAY_MERCHANT_ID = os.environ.get("MERCATO_GOOGLE_PAY_MERCHANT_ID", "")
