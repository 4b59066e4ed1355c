"""The caller's identity, as verified by the gateway.

Envoy validates the bearer token (signature, expiry, audience) against the customers JWKS, strips any
client-sent identity header, and passes the verified `sub` claim as `x-mercato-customer-id`. Services
bind to a private address only the gateway and sibling services reach, so they trust that header and
never parse tokens themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader

from mercato.platform.errors import Unauthorized
from mercato.platform.ids import is_id

CUSTOMER_HEADER = "x-mercato-customer-id"

# Documented as the operation's security requirement, so that the OpenAPI says which routes need a
# signed-in shopper (and answer 401 without one).
_shopper = APIKeyHeader(
    name=CUSTOMER_HEADER,
    scheme_name="ShopperIdentity",
    description="The shopper's id, set by the gateway from a verified bearer token (a client's own copy "
    "is stripped).",
    auto_error=False,
)


def current_customer_id(customer_id: Annotated[str | None, Security(_shopper)] = None) -> str:
    if customer_id is None or not is_id(customer_id, "cus"):
        raise Unauthorized("A valid access token is required.")
    return customer_id


CurrentCustomer = Annotated[str, Depends(current_customer_id)]
