"""Signed links: a guest's way back to their order without an account.

The token is an HMAC-SHA256 of the order id under `order_link_secret` (its own purpose prefix), so the
link names one order, cannot be forged or moved to another order, and needs nothing stored. It is the
capability to read that order, like Shopify's order status URL; it does not expire (the confirmation
e-mail keeps working), and rotating the secret ends every link at once. The storefront's page carries
it in its query string (`/orders/{id}?t=…`, as the e-mail does); the API takes it only in the
`X-Order-Token` header, so it does not end up in the gateway's access logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mercato.services.orders.settings import OrdersSettings

_PURPOSE = b"mercato.orders.order-link\x00"


def order_token(settings: OrdersSettings, order_id: str) -> str:
    secret = settings.order_link_secret.get_secret_value().encode()
    digest = hmac.new(secret, _PURPOSE + order_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def order_url(settings: OrdersSettings, order_id: str) -> str:
    return f"{settings.storefront_url}/orders/{order_id}?t={order_token(settings, order_id)}"


def opens(settings: OrdersSettings, order_id: str, token: str) -> bool:
    """Whether `token` is the signed link of `order_id` (compared in constant time)."""
    return hmac.compare_digest(order_token(settings, order_id), token)
