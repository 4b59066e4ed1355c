"""The app's one setting: where the gateway is. Everything else (the payment provider's publishable key
and URL, wallets) comes from the gateway at run time (GET /mobile/v1/checkout)."""

from __future__ import annotations

import os

DEFAULT_GATEWAY = "http://127.0.0.1:8080"  # `make up` on this machine; a release build sets the shop's URL


def gateway_url() -> str:
    return os.environ.get("MERCATO_GATEWAY_URL", DEFAULT_GATEWAY).rstrip("/")
