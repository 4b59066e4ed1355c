"""Signed links: a guest's way back to their order without an account, and a new account's way to the
guest orders of its address.

The token is an HMAC-SHA256 of the order id under `order_link_secret` (its own purpose prefix), so the
link names one order, cannot be forged or moved to another order, and needs nothing stored. It is the
capability to read that order, like Shopify's order status URL; it does not expire (the confirmation
e-mail keeps working), and rotating the secret ends every link at once. The storefront's page carries
it in its query string (`/orders/{id}?t=…`, as the e-mail does); the API takes it only in the
`X-Order-Token` header, so it does not end up in the gateway's access logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from mercato.services.orders.settings import OrdersSettings

_PURPOSE = b"mercato.orders.order-link\x00"
_CLAIM_PURPOSE = b"mercato.orders.claim-link\x00"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def order_token(settings: OrdersSettings, order_id: str) -> str:
    secret = settings.order_link_secret.get_secret_value().encode()
    return _b64(hmac.new(secret, _PURPOSE + order_id.encode(), hashlib.sha256).digest())


def order_url(settings: OrdersSettings, order_id: str) -> str:
    return f"{settings.storefront_url}/orders/{order_id}?t={order_token(settings, order_id)}"


def opens(settings: OrdersSettings, order_id: str, token: str) -> bool:
    """Whether `token` is the signed link of `order_id` (compared in constant time)."""
    return hmac.compare_digest(order_token(settings, order_id), token)


# --- claiming a guest's orders -----------------------------------------------------------------------
#
# Sent to the address an account was registered with (docs/guest-checkout.md): it names the account and
# the blind index of the address, and runs out. Whoever opens it must be signed in as that account, so
# an account registered with someone else's address never gets their orders: the link goes to the
# address's owner, who cannot sign in as that account.


def claim_token(settings: OrdersSettings, *, customer_id: str, email_index: str, expires_at: datetime) -> str:
    payload = f"{customer_id}.{email_index}.{int(expires_at.timestamp())}".encode()
    secret = settings.order_link_secret.get_secret_value().encode()
    return f"{_b64(payload)}.{_b64(hmac.new(secret, _CLAIM_PURPOSE + payload, hashlib.sha256).digest())}"


def claim_url(settings: OrdersSettings, token: str) -> str:
    return f"{settings.storefront_url}/account/claim-orders?t={token}"


def read_claim(settings: OrdersSettings, token: str) -> tuple[str, str, int] | None:
    """(customer id, e-mail blind index, expiry in Unix seconds) of a genuine claim token, else None."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    secret = settings.order_link_secret.get_secret_value().encode()
    if not hmac.compare_digest(
        _b64(hmac.new(secret, _CLAIM_PURPOSE + payload, hashlib.sha256).digest()), signature
    ):
        return None
    customer_id, email_index, expires = payload.decode().split(".")
    return customer_id, email_index, int(expires)
