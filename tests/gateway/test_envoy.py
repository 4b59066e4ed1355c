"""The generated gateway config, exercised through the real Envoy binary.

A small stdlib HTTP server (tests/gateway/processes.py) stands in for the services on their topology
ports: it serves a JWKS of a key generated here and echoes what it received (path, identity header,
request id), so each test can see what actually crossed the gateway. Envoy starts BEFORE the
upstream, as it may in `mercato up`, so every test also depends on the JWKS fetch being retried until
customers is up.
"""

from __future__ import annotations

import http.client
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.gateway.envoy import build_config, check_routes, envoy_command, write_config
from mercato.gateway.routes import ROUTES, Route
from mercato.gateway.settings import GatewaySettings
from mercato.topology import HOST, Topology
from tests.gateway.factories import jwks as jwks_of
from tests.gateway.factories import signed_token
from tests.gateway.processes import (
    IDENTITY,
    ISSUED_AT,
    Gateway,
    assert_problem,
    running_gateway,
    start_envoy,
    stop,
    upstream,
)

TOPOLOGY = Topology(offset=14000)  # every port below 32768: clear of ephemeral client ports
SETTINGS = GatewaySettings(auth_rate_per_second=1, auth_burst=5, max_request_bytes=64 * 1024)
KEY = Ed25519PrivateKey.generate()
KID = "test-key-1"
SUBJECT = "cus_test123"


def jwks() -> dict[str, Any]:
    return jwks_of(key=KEY, kid=KID)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(
        topology=TOPOLOGY,
        settings=SETTINGS,
        workdir=tmp_path_factory.mktemp("gateway"),
        handler=upstream(jwks_by_path={"/.well-known/jwks.json": jwks()}),
        ready=lambda gw: gw.get("/api/v1/me", token()).status_code == 200,
    ) as gw:
        yield gw


def token(key: Ed25519PrivateKey = KEY, **claims: Any) -> str:
    issuer, audience = SETTINGS.jwt_issuer, SETTINGS.jwt_audience
    return signed_token(key=key, kid=KID, subject=SUBJECT, issuer=issuer, audience=audience, **claims)


# --- the tests -----------------------------------------------------------------------------------


def test_generated_config_passes_envoy_validation(tmp_path: Path) -> None:
    config = write_config(TOPOLOGY, GatewaySettings(), tmp_path / "envoy.json")
    envoy = envoy_command(config)[0]
    result = subprocess.run(
        [envoy, "--mode", "validate", "-c", str(config), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout + result.stderr


def test_valid_token_reaches_the_service_with_its_subject(gateway: Gateway) -> None:
    response = gateway.get("/api/v1/me/addresses", token())
    assert response.status_code == 200
    seen = response.json()
    assert seen["service_port"] == TOPOLOGY.service("customers").port
    assert seen["path"] == "/api/v1/me/addresses"
    assert seen["customer_ids"] == [SUBJECT]
    assert seen["authorization"] is None  # the token itself stays at the gateway


def test_valid_token_reaches_the_service_with_its_issue_time(gateway: Gateway) -> None:
    """Services refuse tokens of ended sessions by their `iat` (mercato.platform.sessions)."""
    response = gateway.get("/api/v1/cart", token(iat=1_700_000_123))
    assert response.status_code == 200
    assert response.json()["issued_at"] == ["1700000123"]


def test_client_cannot_spoof_the_issue_time(gateway: Gateway) -> None:
    """A client-sent issue time would make an old token look newer than its sessions' end."""
    spoofed = gateway.get("/api/v1/cart", token(iat=1_700_000_123), **{ISSUED_AT: "9999999999"})
    assert spoofed.json()["issued_at"] == ["1700000123"]
    public = gateway.get("/api/v1/products", **{ISSUED_AT: "9999999999"})
    assert public.json()["issued_at"] == []


def test_shopper_route_without_token_is_401(gateway: Gateway) -> None:
    problem = assert_problem(gateway.get("/api/v1/me"), 401)
    assert problem["title"] == "Authentication required"


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(token(Ed25519PrivateKey.generate()), id="forged-signature"),
        pytest.param(token(exp=int(time.time()) - 120, iat=int(time.time()) - 600), id="expired"),
        pytest.param(token(aud="someone-else"), id="wrong-audience"),
        pytest.param(token(iss="someone-else"), id="wrong-issuer"),
        pytest.param("not-a-jwt", id="garbage"),
    ],
)
def test_invalid_token_on_shopper_route_is_401(gateway: Gateway, bad_token: str) -> None:
    assert_problem(gateway.get("/api/v1/me", bad_token), 401)


def test_guest_route_without_token_reaches_the_service_with_no_identity(gateway: Gateway) -> None:
    """The cart, checkout and orders take a guest (X-Cart-Token, an order link): no token is let through,
    with no identity, and the guest's own credential reaches the service."""
    response = gateway.get("/api/v1/cart", **{"X-Cart-Token": "guest-cart-token", IDENTITY: "cus_spoofed"})
    assert response.status_code == 200
    assert response.json()["customer_ids"] == []
    assert response.json()["path"] == "/api/v1/cart"
    assert gateway.get("/api/v1/orders/ord_1").json()["customer_ids"] == []


def test_guest_route_with_a_valid_token_passes_the_shopper(gateway: Gateway) -> None:
    seen = gateway.get("/api/v1/checkout", token()).json()
    assert seen["customer_ids"] == [SUBJECT]


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(token(Ed25519PrivateKey.generate()), id="forged-signature"),
        pytest.param(token(exp=int(time.time()) - 120, iat=int(time.time()) - 600), id="expired"),
        pytest.param(token(aud="mercato-admin"), id="staff-audience"),
        pytest.param(token(iss="someone-else"), id="wrong-issuer"),
        pytest.param("not-a-jwt", id="garbage"),
    ],
)
def test_an_invalid_token_on_a_guest_route_is_401_not_a_guest(gateway: Gateway, bad_token: str) -> None:
    """A bad token is never taken for no token: a shopper whose token expired is told to sign in again
    rather than quietly shown an empty guest cart."""
    assert_problem(gateway.get("/api/v1/cart", bad_token), 401)


def test_public_route_needs_no_token(gateway: Gateway) -> None:
    assert gateway.get("/api/v1/products").status_code == 200
    assert gateway.get("/.well-known/jwks.json").json() == jwks()


def test_identity_header_is_stripped_before_jwt_authn_runs() -> None:
    """The chain order is the guarantee, so pin it: strip first, verify later.

    (Envoy 1.40's jwt_authn also drops its claim_to_headers headers by itself, so the end-to-end
    spoofing tests below would still pass without the strip; this test is what fails then.)
    """
    hcm = build_config(TOPOLOGY, SETTINGS)["static_resources"]["listeners"][0]["filter_chains"][0]
    filters = hcm["filters"][0]["typed_config"]["http_filters"]
    names = [f["name"] for f in filters]
    assert names[0] == "envoy.filters.http.header_mutation"
    assert names.index("envoy.filters.http.jwt_authn") > 0
    assert filters[0]["typed_config"]["mutations"]["request_mutations"] == [
        {"remove": IDENTITY},
        {"remove": ISSUED_AT},
        {"remove": STAFF_CLAIMS_HEADER},
    ]


def test_route_table_cannot_expose_internal_routes_or_unknown_services() -> None:
    with pytest.raises(ValueError, match="private"):
        check_routes((Route("/internal/orders", "catalog", "public"),), TOPOLOGY)
    with pytest.raises(ValueError, match="unknown service"):
        check_routes((Route("/api/v1/nope", "nope", "public"),), TOPOLOGY)
    check_routes(ROUTES, TOPOLOGY)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_GATEWAY_AUTH_BURST", "7")
    monkeypatch.setenv("MERCATO_GATEWAY_ACCESS_LOG", "false")
    settings = GatewaySettings()
    assert (settings.auth_burst, settings.access_log, settings.jwt_audience) == (7, False, "mercato-shop")


def test_client_cannot_spoof_identity_on_public_route(gateway: Gateway) -> None:
    spoofed = {IDENTITY: "cus_victim", IDENTITY.replace("-", "_"): "cus_victim"}
    response = httpx.get(gateway.url + "/api/v1/products", headers=spoofed, timeout=5)
    assert response.status_code == 200
    assert response.json()["customer_ids"] == []
    assert response.json()["underscore_ids"] == []


def test_client_cannot_spoof_identity_alongside_a_valid_token(gateway: Gateway) -> None:
    response = gateway.get("/api/v1/me", token(), **{IDENTITY: "cus_victim"})
    assert response.status_code == 200
    assert response.json()["customer_ids"] == [SUBJECT]


@pytest.mark.parametrize(
    "path",
    ["/internal/anything", "/internal", "/api/v1/products/../../../internal/x", "/nope", "/api/v1/meX", "/"],
)
def test_unrouted_and_internal_paths_are_404(gateway: Gateway, path: str) -> None:
    # http.client sends the path verbatim (httpx would resolve the dot segments itself).
    connection = http.client.HTTPConnection(HOST, TOPOLOGY.gateway_port, timeout=5)
    connection.request("GET", path)
    raw = connection.getresponse()
    response = httpx.Response(raw.status, headers=raw.getheaders(), content=raw.read())
    connection.close()
    problem = assert_problem(response, 404)
    assert problem["title"] == "Not found"


def test_upstream_errors_pass_through_untouched(gateway: Gateway) -> None:
    response = gateway.get("/api/v1/products/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain"
    assert response.text == "the service says: no such thing"


def test_request_id_is_generated_and_returned(gateway: Gateway) -> None:
    response = gateway.get("/api/v1/categories")
    request_id = response.headers["x-request-id"]
    assert uuid.UUID(request_id)
    assert response.json()["request_id"] == request_id  # the service logs the same id
    assert gateway.get("/nope").headers["x-request-id"] != request_id


def test_body_over_the_limit_is_413(gateway: Gateway) -> None:
    url = gateway.url + "/api/v1/products"
    small = httpx.post(url, content=b"x" * 1024, timeout=5)
    assert small.status_code == 200 and small.json()["body_bytes"] == 1024
    large = httpx.post(url, content=b"x" * (SETTINGS.max_request_bytes + 1), timeout=5)
    assert_problem(large, 413)


def test_auth_class_is_rate_limited_with_retry_after(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url, timeout=5) as client:
        responses = [client.post("/api/v1/auth/refresh", json={}) for _ in range(SETTINGS.auth_burst + 5)]
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) >= SETTINGS.auth_burst - 1, statuses
        limited = [r for r in responses if r.status_code == 429]
        assert limited, statuses
        assert_problem(limited[0], 429)
        assert int(limited[0].headers["retry-after"]) >= 1
        # Routes of one class share its bucket: staff sign-in's second step is throttled by the same
        # refresh flood (at most one token refills meanwhile, so at least two of three are refused) ...
        statuses = [client.post("/admin/v1/auth/verify", json={}).status_code for _ in range(3)]
        assert statuses.count(429) >= 2, statuses
        # ... while the default class has its own bucket: browsing is unaffected.
        assert client.get("/api/v1/products").status_code == 200


def test_gateway_is_ready_without_services_and_answers_503(tmp_path: Path) -> None:
    topology = Topology(offset=18000)  # nothing listens on these service ports (all below 32768)
    envoy = start_envoy(topology, GatewaySettings(access_log=False), tmp_path)
    try:
        response = httpx.get(topology.gateway_url + "/api/v1/products", timeout=5)
        problem = assert_problem(response, 503)
        assert problem["title"] == "Service unavailable"
    finally:
        stop(envoy)
