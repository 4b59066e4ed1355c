"""The gateway's HTTP cache (mercato/gateway/cache.py), through the real Envoy: what it keeps, for whom,
for how long, and how it asks the service again.

The stand-in for the services answers the cacheable public routes as catalog and search do — with the
`Cache-Control` the test asks for and an ETag per version of each path — and records every request it
receives, so a test sees exactly which requests the cache answered itself.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mercato.gateway.cache import CACHE_FILTER, CACHE_KEY_FILTER
from mercato.gateway.envoy import build_config, check_routes
from mercato.gateway.routes import Route
from mercato.gateway.settings import GatewaySettings
from mercato.topology import Topology
from tests.gateway.processes import Gateway, Upstream, assert_problem, running_gateway

TOPOLOGY = Topology(offset=18500)  # ports 26xxx: below the ephemeral range, clear of other tests
SETTINGS = GatewaySettings(access_log=False)


class Versioned(Upstream):
    """GETs get a JSON body and an ETag of their path's version, and the Cache-Control of their `cc`
    query parameter; a matching If-None-Match gets a 304. Every request received is recorded."""

    versions: dict[str, int] = {}
    received: list[dict[str, str | None]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        cache_control = parse_qs(url.query).get("cc", ["public, max-age=60"])[0]
        with self.lock:
            version = self.versions.get(url.path, 1)
            self.received.append(
                {
                    "path": self.path,
                    "if_none_match": self.headers.get("if-none-match"),
                    "cookie": self.headers.get("cookie"),
                }
            )
        etag = f'"v{version}"'
        status, body = (304, b"") if self.headers.get("if-none-match") == etag else (200, b"")
        if status == 200:
            body = json.dumps({"path": url.path, "version": version}).encode()
        self.send_response(status)
        self.send_header("etag", etag)
        self.send_header("cache-control", cache_control)
        if status == 200:
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(
        topology=TOPOLOGY,
        settings=SETTINGS,
        workdir=tmp_path_factory.mktemp("gateway-cache"),
        handler=Versioned,
        ready=lambda gw: gw.get(f"/api/v1/categories?probe={uuid.uuid4().hex}").status_code == 200,
    ) as gw:
        yield gw


def a_product() -> str:
    return f"/api/v1/products/p-{uuid.uuid4().hex[:12]}"


def upstream_saw(path: str) -> list[dict[str, str | None]]:
    with Versioned.lock:
        return [r for r in Versioned.received if urlsplit(str(r["path"])).path == urlsplit(path).path]


def bump(path: str) -> None:
    with Versioned.lock:
        Versioned.versions[path] = Versioned.versions.get(path, 1) + 1


# --- the tests -----------------------------------------------------------------------------------


def test_a_public_answer_is_kept_and_served_to_the_next_anonymous_request(gateway: Gateway) -> None:
    path = a_product()
    first, second = gateway.get(path), gateway.get(path)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"path": path, "version": 1}
    assert second.headers["etag"] == '"v1"' and "age" in second.headers
    assert len(upstream_saw(path)) == 1
    assert first.headers["x-request-id"] != second.headers["x-request-id"]  # each request its own id
    assert "x-envoy-upstream-service-time" not in second.headers


@pytest.mark.parametrize("personal", [{"authorization": "Bearer whatever"}, {"cookie": "session=abc"}])
def test_a_request_with_credentials_is_neither_served_from_nor_kept_in_the_cache(
    gateway: Gateway, personal: dict[str, str]
) -> None:
    path = a_product()
    gateway.get(path)  # cached for everyone
    assert gateway.get(path, **personal).status_code == 200
    assert gateway.get(path, **personal).status_code == 200
    assert len(upstream_saw(path)) == 3  # both personal requests went to the service

    other = a_product()
    gateway.get(other, **personal)
    gateway.get(other)
    assert len(upstream_saw(other)) == 2  # the personal answer was not kept for the anonymous one


def test_only_answers_the_service_marks_public_are_kept(gateway: Gateway) -> None:
    for cache_control in ("private, max-age=60", "no-store"):
        path = a_product() + f"?cc={cache_control}"
        gateway.get(path)
        gateway.get(path)
        assert len(upstream_saw(path)) == 2, cache_control


def test_routes_not_marked_cacheable_are_never_answered_from_the_cache(gateway: Gateway) -> None:
    path = f"/api/v1/images/{uuid.uuid4().hex}.png"  # public, but not cacheable at the gateway
    gateway.get(path)
    gateway.get(path)
    assert len(upstream_saw(path)) == 2


def test_a_stale_answer_is_revalidated_by_its_etag_and_a_new_version_replaces_it(gateway: Gateway) -> None:
    """no-cache: kept, but asked about again each time (what max-age=1 does a second or two later)."""
    path = a_product() + "?cc=public, no-cache"
    first = gateway.get(path)
    again = gateway.get(path)
    assert again.status_code == 200 and again.json() == first.json()
    revalidation = upstream_saw(path)[-1]
    assert revalidation["if_none_match"] == '"v1"'  # asked with the kept ETag; the service said 304

    bump(urlsplit(path).path)
    changed = gateway.get(path)
    assert changed.json()["version"] == 2 and changed.headers["etag"] == '"v2"'
    assert gateway.get(path).json()["version"] == 2


def test_a_client_with_its_own_etag_gets_a_304_from_the_service(gateway: Gateway) -> None:
    path = a_product()
    etag = gateway.get(path).headers["etag"]
    not_modified = gateway.get(path, **{"if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    bump(urlsplit(path).path)
    assert gateway.get(path, **{"if-none-match": etag}).status_code == 200
    assert [r["if_none_match"] for r in upstream_saw(path)] == [None, etag, etag]


def test_the_host_header_does_not_multiply_entries(gateway: Gateway) -> None:
    """Every host name reaches the same routes; the cache keys by host, so the gateway sets one."""
    path = a_product()
    for host in ("shop.example.com", "other.example.com", "127.0.0.1"):
        assert gateway.get(path, host=host).status_code == 200
    assert len(upstream_saw(path)) == 1


def test_a_service_that_is_down_is_a_problem_503_through_the_cache_too(tmp_path: Path) -> None:
    """A miss is fetched through the internal `cache-fill` listener, whose local replies are the
    gateway's problem+json like any other route's (tested more widely in test_envoy.py)."""
    from tests.gateway.processes import start_envoy, stop

    topology = Topology(offset=18600)  # nothing listens on the service ports
    envoy = start_envoy(topology, SETTINGS, tmp_path)
    try:
        response = httpx.get(topology.gateway_url + "/api/v1/products/anything", timeout=5)
        assert assert_problem(response, 503)["title"] == "Service unavailable"
    finally:
        stop(envoy)


@pytest.mark.parametrize(
    "route",
    [
        Route("/api/v1/me", "customers", "shopper", cacheable=True),
        Route("/admin/v1/products", "catalog", "staff", cacheable=True),
        Route("/admin/v1/auth/login", "customers", "staff-login", cacheable=True),
    ],
)
def test_only_public_shop_routes_may_be_cacheable(route: Route) -> None:
    with pytest.raises(ValueError, match="cacheable"):
        check_routes((route,), TOPOLOGY)


def test_the_cache_comes_right_before_the_router_and_can_be_turned_off() -> None:
    def filters(settings: GatewaySettings) -> list[str]:
        listener = build_config(TOPOLOGY, settings)["static_resources"]["listeners"][0]
        return [f["name"] for f in listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]]

    assert filters(SETTINGS)[-3:] == [CACHE_KEY_FILTER, CACHE_FILTER, "envoy.filters.http.router"]
    off = GatewaySettings(access_log=False, cache=False)
    assert not {CACHE_KEY_FILTER, CACHE_FILTER} & set(filters(off))
    assert len(build_config(TOPOLOGY, off)["static_resources"]["listeners"]) == 1  # no cache-fill either
