"""The gateway's route table: which public path goes to which service, under which rules.

This tuple is the whole public surface of the platform. `mercato.gateway.envoy` turns it into Envoy
routes; nothing else may add a public route. Services serve the same paths the gateway exposes (no
rewriting), so a route is just a path match, a target service and two policies:

- `auth`: "public" needs no token; "shopper" requires a valid customers-issued JWT, and the gateway
  passes its `sub` to the service as `x-mercato-customer-id`. "shopper-or-guest" takes a shopper token
  the same way if one is sent (an invalid or expired one is refused, never ignored), and lets a request
  without one through with no identity: the service then needs a guest's own credential (a cart token,
  an order link's token) or answers 401 — the cart, checkout and a guest's order.
  "staff" requires a staff token (the staff key, audience `mercato-admin`) that carries `mfa: true`,
  from an address in the admin allowlist; the gateway passes its payload to the service as
  `x-mercato-staff-claims` (see `mercato.platform.staff`). "staff-login" is the way in to a staff
  token: no token yet, but the allowlist applies all the same.
- `rate_limit`: the token bucket the request draws from. "auth" is the small bucket for endpoints an
  attacker would hammer (registration, login, refresh); "default" is everything else. "password" is
  for the routes that check or set a password (argon2 at customers): a bucket of the auth class's
  size per route, plus a small one per client address (a few tries a minute, see
  `mercato.gateway.envoy.password_rate_limit`). "code" is the same per-address limiter (buckets of its
  own, `code_per_address_per_minute`) for a route where a secret code is guessed: a gift card's balance
  by its code. "browse" is the large bucket of the cacheable
  public reads, most of which the gateway answers from its cache without asking a service.
- `cacheable`: anonymous GETs (no Authorization, no Cookie) may be answered from the gateway's HTTP
  cache, for as long as the service's `Cache-Control: public, max-age=…` allows, then revalidated
  with the service by ETag (`mercato.gateway.envoy.cache_filter`). Only public routes may be cacheable
  and never a back-office one; the service decides what is cached and for how long, the route only
  lets the gateway keep it. Any anonymous page (the storefront's, once it is routed here) opts in the
  same way.
- `compressed`: answers are compressed (brotli or gzip) for clients that accept it
  (`mercato.gateway.compression`); the mobile API's routes, for phones on slow networks.

A prefix matches whole path segments: `/api/v1/me` matches `/api/v1/me` and `/api/v1/me/addresses`
but not `/api/v1/meX`. A prefix ending in "/" matches everything below it. `exact` matches one path.
Paths under `/internal` are never routed, whatever this table says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["public", "shopper", "shopper-or-guest", "staff", "staff-login"]
RateLimitClass = Literal["default", "auth", "password", "code", "browse"]


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    auth: Auth
    rate_limit: RateLimitClass = "default"
    exact: bool = False
    uploads: bool = False  # takes file uploads: bodies up to `max_upload_bytes`, not `max_request_bytes`
    cacheable: bool = False  # anonymous GETs may be answered from the gateway's cache (see above)
    compressed: bool = False  # answers compressed for clients that accept it (see above)


ROUTES: tuple[Route, ...] = (
    # customers: accounts, tokens, the shopper's own data, and the public keys that verify tokens
    Route("/api/v1/customers", "customers", "public", rate_limit="password"),
    Route("/api/v1/auth/token", "customers", "public", rate_limit="password", exact=True),
    # (signed in, yet in the small bucket: the first guesses a stolen token at the password, the second
    # is on the way of every sign-in page; listed before the prefixes they would otherwise fall under)
    Route("/api/v1/auth/logout-all", "customers", "shopper", rate_limit="auth", exact=True),
    Route("/api/v1/me/password", "customers", "shopper", rate_limit="password", exact=True),
    # password reset: limited like sign-in (the request would otherwise mail-bomb an address; the
    # confirmation sets a password)
    Route("/api/v1/auth/password-reset", "customers", "public", rate_limit="password", exact=True),
    Route("/api/v1/auth/password-reset/confirm", "customers", "public", rate_limit="password", exact=True),
    Route("/api/v1/auth/", "customers", "public", rate_limit="auth"),
    Route("/api/v1/me", "customers", "shopper"),
    Route("/.well-known/jwks.json", "customers", "public", exact=True),
    Route("/api/v1/.well-known/jwks.json", "customers", "public", exact=True),
    # catalog: read-only browsing, no token needed (images are immutable, but may be large: kept by
    # browsers and CDNs, not in the gateway's memory)
    Route("/api/v1/categories", "catalog", "public", rate_limit="browse", cacheable=True),
    Route("/api/v1/markets", "catalog", "public", rate_limit="browse", exact=True, cacheable=True),
    Route("/api/v1/products", "catalog", "public", rate_limit="browse", cacheable=True),
    Route("/api/v1/images/", "catalog", "public"),
    # search: straight to the search service, not through catalog
    Route("/api/v1/search", "search", "public", rate_limit="browse", cacheable=True),
    # orders: the shopper's or a guest's cart, checkout, purchase history and a guest's order by its link;
    # a new guest cart (the small bucket: each is a row)
    Route("/api/v1/carts", "orders", "public", rate_limit="auth", exact=True),
    Route("/api/v1/cart", "orders", "shopper-or-guest"),
    Route("/api/v1/checkout", "orders", "shopper-or-guest", exact=True),
    Route("/api/v1/orders", "orders", "shopper-or-guest"),
    Route("/api/v1/order-claims", "orders", "shopper", exact=True),  # a new account claims guest orders
    # notifications: the phones a shopper takes push notifications on (ahead of any /mobile/v1 prefix)
    Route("/mobile/v1/devices", "notifications", "shopper"),
    # the mobile API: one call per screen of the apps, compressed. Screen by screen, not one /mobile/v1
    # prefix: other /mobile/v1 paths (the devices, served by notifications) are routed elsewhere.
    Route("/mobile/v1/home", "mobile-api", "public", "browse", exact=True, cacheable=True, compressed=True),
    Route("/mobile/v1/products", "mobile-api", "public", "browse", cacheable=True, compressed=True),
    Route(
        "/mobile/v1/suggestions",
        "mobile-api",
        "public",
        "browse",
        exact=True,
        cacheable=True,
        compressed=True,
    ),
    # (the cart and checkout serve a guest too: the app's cart token goes on to orders, as X-Cart-Token)
    Route("/mobile/v1/cart", "mobile-api", "shopper-or-guest", compressed=True),
    Route("/mobile/v1/checkout", "mobile-api", "shopper-or-guest", compressed=True),  # and its steps
    Route("/mobile/v1/orders", "mobile-api", "shopper", compressed=True),
    # payments: the provider's webhooks (authenticated by their Stripe-Signature, not by a token); a gift
    # card's balance by its code (anyone may ask, a few times a minute per address: guessing is hopeless)
    Route("/webhooks/stripe", "payments", "public", exact=True),
    Route("/api/v1/gift-cards/", "payments", "public", rate_limit="code"),
    # --- the back office: staff only, from allowlisted addresses ------------------------------------
    # customers: staff sign-in (password, then TOTP), staff management, the audit log, customer support
    Route("/admin/v1/auth/login", "customers", "staff-login", rate_limit="password", exact=True),
    Route("/admin/v1/auth/", "customers", "staff-login", rate_limit="auth"),
    Route("/admin/v1/staff", "customers", "staff"),
    Route("/admin/v1/audit", "customers", "staff"),
    Route("/admin/v1/customers", "customers", "staff"),
    # catalog: merchandising (products, variants, prices, images, categories, inventory, CSV)
    Route("/admin/v1/products", "catalog", "staff"),
    Route("/admin/v1/categories", "catalog", "staff"),
    Route("/admin/v1/inventory", "catalog", "staff"),
    Route("/admin/v1/images", "catalog", "staff", uploads=True),
    Route("/admin/v1/product-imports", "catalog", "staff", uploads=True),
    # orders: operations (search, transitions, refunds) and the sales reports
    Route("/admin/v1/orders", "orders", "staff"),
    Route("/admin/v1/guests", "orders", "staff"),  # support: a guest's GDPR export and erasure by e-mail
    Route("/admin/v1/reports", "orders", "staff"),
    Route("/admin/v1/shipping-zones", "orders", "staff"),
    Route("/admin/v1/shipping-methods", "orders", "staff"),
    Route("/admin/v1/tax-rates", "orders", "staff", exact=True),
    Route("/admin/v1/promotions", "orders", "staff"),  # promotions, their code batches (reports: above)
    # payments: the payment records of any order (the audit trail of money)
    Route("/admin/v1/payments", "payments", "staff"),
    Route("/admin/v1/gift-cards", "payments", "staff"),  # issue (code shown once), find, ledger, disable
)
