"""The gateway's route table: which public path goes to which service, under which rules.

This tuple is the whole public surface of the platform. `mercato.gateway.envoy` turns it into Envoy
routes; nothing else may add a public route. Services serve the same paths the gateway exposes (no
rewriting), so a route is just a path match, a target service and two policies:

- `auth`: "public" needs no token; "shopper" requires a valid customers-issued JWT, and the gateway
  passes its `sub` to the service as `x-mercato-customer-id`.
- `rate_limit`: the token bucket the request draws from. "auth" is the small bucket for endpoints an
  attacker would hammer (registration, login, refresh); "default" is everything else.

A prefix matches whole path segments: `/api/v1/me` matches `/api/v1/me` and `/api/v1/me/addresses`
but not `/api/v1/meX`. A prefix ending in "/" matches everything below it. `exact` matches one path.
Paths under `/internal` are never routed, whatever this table says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["public", "shopper"]
RateLimitClass = Literal["default", "auth"]


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    auth: Auth
    rate_limit: RateLimitClass = "default"
    exact: bool = False


ROUTES: tuple[Route, ...] = (
    # customers: accounts, tokens, the shopper's own data, and the public keys that verify tokens
    Route("/api/v1/customers", "customers", "public", rate_limit="auth"),
    Route("/api/v1/auth/", "customers", "public", rate_limit="auth"),
    Route("/api/v1/me", "customers", "shopper"),
    Route("/.well-known/jwks.json", "customers", "public", exact=True),
    Route("/api/v1/.well-known/jwks.json", "customers", "public", exact=True),
    # catalog: read-only browsing, no token needed
    Route("/api/v1/categories", "catalog", "public"),
    Route("/api/v1/products", "catalog", "public"),
    Route("/api/v1/images/", "catalog", "public"),
    # search: straight to the search service, not through catalog
    Route("/api/v1/search", "search", "public"),
    # orders: the shopper's cart, checkout and purchase history
    Route("/api/v1/cart", "orders", "shopper"),
    Route("/api/v1/checkout", "orders", "shopper", exact=True),
    Route("/api/v1/orders", "orders", "shopper"),
    # payments: the provider's webhooks (authenticated by their Stripe-Signature, not by a token)
    Route("/webhooks/stripe", "payments", "public", exact=True),
)
