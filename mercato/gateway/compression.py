"""Response compression at the gateway: Envoy's compressor filter, twice — brotli and gzip — on the routes
marked `compressed` (the mobile API's, for phones on slow networks).

A client that sends `Accept-Encoding: br` (or `gzip`) gets JSON and text answers of at least
`compress_min_bytes` compressed, with `Content-Encoding` and `Vary: Accept-Encoding`; both accepted: the
one with the higher q-value, or at the same weight the one the client lists first (iOS sends `br, gzip,
deflate`; OkHttp on Android `gzip` alone). The last compressor removes the Accept-Encoding before the
request goes on (the first must still see it, or gzip would never be chosen), so services (and the
gateway's cache, which keeps answers as the service sent them) only ever see and store plain bodies: each
compression is done on the way out, cache hits included — the filters sit before the cache in the chain,
and a reply the cache makes passes back through them.

ETags: Envoy drops a strong ETag from an answer it compresses (the bytes are no longer the ones it named)
and keeps a weak one; the mobile API's ETags are weak from the start, so they survive compression and a
phone's `If-None-Match` gets its 304 (services compare ETags weakly, RFC 9110).

Why only the marked routes: the other routes' clients are the storefront and the admin app, on the
gateway's own network, for whom compressing costs CPU at both ends and saves nothing worth it. Marking a
route is all it takes to compress it too.
"""

from __future__ import annotations

from typing import Any

Config = dict[str, Any]

BROTLI_FILTER = "mercato.compress_brotli"
GZIP_FILTER = "mercato.compress_gzip"
FILTERS = (BROTLI_FILTER, GZIP_FILTER)
CONTENT_TYPES = (
    "application/json",
    "application/problem+json",
    "text/plain",
    "text/html",
    "text/css",
    "application/javascript",
    "image/svg+xml",
)

_TYPE = "type.googleapis.com/envoy."
COMPRESSOR_TYPE = _TYPE + "extensions.filters.http.compressor.v3.Compressor"
COMPRESSOR_PER_ROUTE_TYPE = _TYPE + "extensions.filters.http.compressor.v3.CompressorPerRoute"
BROTLI_TYPE = _TYPE + "extensions.compression.brotli.compressor.v3.Brotli"
GZIP_TYPE = _TYPE + "extensions.compression.gzip.compressor.v3.Gzip"
FILTER_CONFIG_TYPE = _TYPE + "config.route.v3.FilterConfig"


def _compressor(name: str, library: str, library_config: Config, min_bytes: int, *, last: bool) -> Config:
    return {
        "name": name,
        "disabled": True,  # but on the routes that turn it on (`compression_on`)
        "typed_config": {
            "@type": COMPRESSOR_TYPE,
            "response_direction_config": {
                "common_config": {"min_content_length": min_bytes, "content_type": list(CONTENT_TYPES)},
                # By the last one only: the one before must still see what the client accepts.
                "remove_accept_encoding_header": last,
            },
            "compressor_library": {"name": library, "typed_config": library_config},
        },
    }


def compressor_filters(min_bytes: int) -> list[Config]:
    """Brotli (quality 5: most of its gain over gzip for a fraction of its top quality's CPU), then gzip
    (zlib's default level), for the HTTP filter chain."""
    return [
        _compressor(BROTLI_FILTER, "brotli", {"@type": BROTLI_TYPE, "quality": 5}, min_bytes, last=False),
        _compressor(GZIP_FILTER, "gzip", {"@type": GZIP_TYPE}, min_bytes, last=True),
    ]


def compression_on() -> Config:
    """A compressed route's per-filter configs: both compressors on."""
    enabled = {"@type": FILTER_CONFIG_TYPE, "config": {"@type": COMPRESSOR_PER_ROUTE_TYPE, "overrides": {}}}
    return dict.fromkeys(FILTERS, enabled)
