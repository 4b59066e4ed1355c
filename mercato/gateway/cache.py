"""The gateway's HTTP cache: the pieces of the Envoy config for the routes marked `cacheable`.

Envoy's cache filter (`envoy.filters.http.cache_v2`, storage SimpleHttpCacheV2: in memory, one per
Envoy process) answers anonymous GETs from memory while the service's `Cache-Control: public,
max-age=…` allows — Envoy counts age in whole seconds and serves an answer while its age is at most
max-age, so for up to max-age + 1 s — then asks the service again with `If-None-Match` and keeps
serving the same bytes on a 304. It never serves or keeps an answer to a request with `Authorization`
(Envoy's own rule) nor, by the routes (`personal_bypass`), to one with a `Cookie`; HEAD requests,
requests with a body and a client's own `If-None-Match` go to the service.

Version 2 of the filter, not `envoy.filters.http.cache` (v1): v2 gives the requests for an entry being
fetched or revalidated one upstream request between them, where v1 sends one each — so at every expiry
of a popular page, every request arriving until catalog had answered went to catalog too, and p99 at
1,000 requests/s was 21 ms instead of 3 (docs/performance.md, "Browsing").

A request the filter takes on (hit or miss) leaves the filter chain there: a miss is fetched by the
filter itself, skipping every filter after it — the router included, with its retry policy, and its
failures would not be the gateway's problem+json replies. So the filter sits last but for the router
(every check has been made by then), and sends what it fetches to an internal listener, `cache-fill`
(`override_upstream_cluster`), whose own connection manager routes it to the service with the same
retry policy and local replies as any other route (what Envoy's documentation recommends for a cache
in front of filters that must run). Hits never get that far; misses pay one in-process hop.

The key is the host, path and query string; a cacheable request's Host is set to one name before the
cache sees it (`cache_key`). SimpleHttpCache never evicts, so what it holds is bounded by the distinct
URLs whose answers services mark `public` (see docs/performance.md, "Browsing").
"""

from __future__ import annotations

from typing import Any

Config = dict[str, Any]

CACHE_FILTER = "envoy.filters.http.cache_v2"
CACHE_KEY_FILTER = "mercato.cache_key"
CACHE_FILL = "cache-fill"  # the internal listener that fetches misses, and the cluster that reaches it
CACHE_HOST = "mercato-gateway"  # the Host of every cacheable request, as the cache keys it
PERSONAL_HEADERS = ("authorization", "cookie")

_TYPE = "type.googleapis.com/envoy."
CACHE_TYPE = _TYPE + "extensions.filters.http.cache_v2.v3.CacheV2Config"
LUA_TYPE = _TYPE + "extensions.filters.http.lua.v3.Lua"
LUA_PER_ROUTE_TYPE = _TYPE + "extensions.filters.http.lua.v3.LuaPerRoute"
SIMPLE_CACHE_TYPE = _TYPE + "extensions.http.cache_v2.simple_http_cache.v3.SimpleHttpCacheV2Config"
FILTER_CONFIG_TYPE = _TYPE + "config.route.v3.FilterConfig"
INTERNAL_LISTENER_TYPE = _TYPE + "extensions.bootstrap.internal_listener.v3.InternalListener"


def cache_filter() -> Config:
    return {
        "name": CACHE_FILTER,
        "typed_config": {
            "@type": CACHE_TYPE,
            "typed_config": {"@type": SIMPLE_CACHE_TYPE},
            "override_upstream_cluster": CACHE_FILL,
        },
    }


def cache_key_filter() -> Config:
    """One Host for every cacheable request, set right before the cache filter: the cache keys entries by
    host too (Envoy 1.40 does not implement `key_creator_params`) and every host name reaches the same
    routes, so `Host:` variations must not multiply the entries. (Lua: no other filter may set Host.)
    Off, but on the cacheable routes (`cache_key`)."""
    code = f'function envoy_on_request(request) request:headers():replace(":authority", "{CACHE_HOST}") end'
    return {
        "name": CACHE_KEY_FILTER,
        "disabled": True,
        "typed_config": {"@type": LUA_TYPE, "source_codes": {CACHE_KEY_FILTER: {"inline_string": code}}},
    }


def cache_key() -> Config:
    """A cacheable route's per-filter config of `cache_key_filter`: on."""
    return {"@type": FILTER_CONFIG_TYPE, "config": {"@type": LUA_PER_ROUTE_TYPE, "name": CACHE_KEY_FILTER}}


def cache_off() -> Config:
    """A route's per-filter config that turns the cache off (the filter takes no other per-route config)."""
    return {"@type": FILTER_CONFIG_TYPE, "disabled": True}


def personal_bypass(entry: Config) -> list[Config]:
    """Copies of a cacheable route's Envoy route for requests with a personal header, cache off; they go
    before it (Envoy's route `headers` match all-of, hence one per header)."""
    return [
        {
            **entry,
            "name": f"{entry['name']} (with {header}: not cached)",
            "match": {**entry["match"], "headers": [{"name": header, "present_match": True}]},
            "typed_per_filter_config": {**entry["typed_per_filter_config"], CACHE_FILTER: cache_off()},
        }
        for header in PERSONAL_HEADERS
    ]


def fill_listener(connection_manager: Config) -> Config:
    """The internal listener that fetches misses: reached only from the gateway itself, in process."""
    return {
        "name": CACHE_FILL,
        "internal_listener": {},
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": connection_manager,
                    }
                ]
            }
        ],
    }


def fill_cluster(protocol_options: Config) -> Config:
    return {
        "name": CACHE_FILL,
        "load_assignment": {
            "cluster_name": CACHE_FILL,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"envoy_internal_address": {"server_listener_name": CACHE_FILL}}
                            }
                        }
                    ]
                }
            ],
        },
        "typed_extension_protocol_options": protocol_options,
    }


def bootstrap_extensions() -> list[Config]:
    """What lets a cluster reach an internal listener."""
    return [{"name": "envoy.bootstrap.internal_listener", "typed_config": {"@type": INTERNAL_LISTENER_TYPE}}]
