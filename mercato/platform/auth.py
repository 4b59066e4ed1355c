"""The caller's identity, as verified by the gateway, and whether its session is still alive.

Envoy validates the bearer token (signature, expiry, audience) against the customers JWKS, strips any
client-sent identity headers, and passes the verified `sub` claim as `x-mercato-customer-id` and the
`iat` claim as `x-mercato-token-issued-at`. Services bind to a private address only the gateway and
sibling services reach, so they trust those headers and never parse tokens themselves.

A verified token may still belong to a session that has ended (erasure, password change or reset,
"sign out everywhere"): `CurrentCustomer` refuses it, with one primary-key read of the service's
`session_revocations` table (see `mercato.platform.sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader

from mercato.platform.errors import Unauthorized
from mercato.platform.ids import is_id
from mercato.platform.sessions import is_ended

CUSTOMER_HEADER = "x-mercato-customer-id"
ISSUED_AT_HEADER = "x-mercato-token-issued-at"
SESSION_ENDED = (
    "This session has ended (signed out everywhere, password changed or account closed); sign in again."
)

# Documented as the operation's security requirement, so that the OpenAPI says which routes need a
# signed-in shopper (and answer 401 without one).
_shopper = APIKeyHeader(
    name=CUSTOMER_HEADER,
    scheme_name="ShopperIdentity",
    description="The shopper's id, set by the gateway from a verified bearer token (a client's own copy "
    "is stripped).",
    auto_error=False,
)


@dataclass(frozen=True)
class Shopper:
    id: str
    issued_at: int | None  # the token's `iat`, Unix seconds


def _issued_at(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and len(raw) <= 12 else None


async def verified_shopper(
    customer_id: Annotated[str | None, Security(_shopper)] = None,
    issued_at: Annotated[str | None, Header(alias=ISSUED_AT_HEADER, include_in_schema=False)] = None,
) -> Shopper:
    if customer_id is None or not is_id(customer_id, "cus"):
        raise Unauthorized("A valid access token is required.")
    return Shopper(id=customer_id, issued_at=_issued_at(issued_at))


async def optional_shopper(
    customer_id: Annotated[str | None, Security(_shopper)] = None,
    issued_at: Annotated[str | None, Header(alias=ISSUED_AT_HEADER, include_in_schema=False)] = None,
) -> Shopper | None:
    """The verified shopper on a route where signing in is optional (the gateway's "shopper-or-guest"
    mode: a token, if sent, was verified; none is allowed); None without one."""
    if customer_id is None:
        return None
    return await verified_shopper(customer_id, issued_at)


async def current_shopper(
    request: Request, shopper: Annotated[Shopper, Depends(verified_shopper)]
) -> Shopper:
    async with request.app.state.db.read() as session:
        if await is_ended(session, shopper.id, shopper.issued_at):
            raise Unauthorized(SESSION_ENDED)
    return shopper


async def current_customer_id(shopper: Annotated[Shopper, Depends(current_shopper)]) -> str:
    return shopper.id


# The gateway-verified identity whose session the route checks itself, inside the transaction that acts
# on it (checkout: one read less on the hot path, and no gap between the check and the write).
SessionCheckedInTransaction = Annotated[Shopper, Depends(verified_shopper)]
CurrentCustomer = Annotated[str, Depends(current_customer_id)]
# A shopper if signed in, else None; the session is not checked (the route does, or needs no account).
OptionalShopper = Annotated[Shopper | None, Depends(optional_shopper)]
