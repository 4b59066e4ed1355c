"""The gateway's admin door (`/admin/v1`), exercised through the real Envoy binary.

The stand-in for the services (tests/gateway/processes.py) serves two JWKS on the customers port, as
customers does: the shoppers' key at `/.well-known/jwks.json` and the staff realm's own key at
`/internal/staff/jwks.json`. Tests connect from 127.0.0.1 (in the default admin allowlist) or from
127.0.0.2 (outside it; Linux routes all of 127/8 to loopback) with httpx's `local_address`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from mercato.contracts.staff import STAFF_AUDIENCE, STAFF_CLAIMS_HEADER
from mercato.gateway.envoy import build_config
from mercato.gateway.settings import GatewaySettings
from mercato.platform.ids import new_id
from mercato.platform.staff import current_staff
from mercato.topology import Topology
from tests.gateway.factories import jwks, signed_token, staff_token
from tests.gateway.processes import (
    IDENTITY,
    Gateway,
    assert_problem,
    running_gateway,
    start_envoy,
    stop,
    upstream,
)

# Every port below 32768 (clear of ephemeral client ports) and of every other test's topology.
TOPOLOGY = Topology(offset=22500)
SETTINGS = GatewaySettings(auth_rate_per_second=1, auth_burst=5)  # the default allowlist: loopback only
SHOP_KEY, SHOP_KID = Ed25519PrivateKey.generate(), "shop-key-1"
STAFF_KEY, STAFF_KID = Ed25519PrivateKey.generate(), "staff-key-1"
STAFF_ID = new_id("stf")
INSIDE, OUTSIDE = "127.0.0.1", "127.0.0.2"
ADMIN_PATH = "/admin/v1/orders"


def a_staff_token(**claims: Any) -> str:
    return staff_token(key=STAFF_KEY, kid=STAFF_KID, staff_id=STAFF_ID, **claims)


def a_shopper_token(**claims: Any) -> str:
    return signed_token(key=SHOP_KEY, kid=SHOP_KID, subject="cus_test123", **claims)


def call(
    gateway: Gateway,
    path: str,
    *,
    token: str | None = None,
    source: str = INSIDE,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request to the gateway from the local address `source`."""
    headers = dict(headers or {})
    if token:
        headers["authorization"] = f"Bearer {token}"
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=gateway.url, transport=transport, timeout=5) as client:
        return client.request(method, path, headers=headers)


def decoded_claims(raw: str) -> dict[str, Any]:
    """The forwarded payload as the contract describes it: unpadded base64url of the JSON payload."""
    assert "=" not in raw and "+" not in raw and "/" not in raw, raw
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    handler = upstream(
        jwks_by_path={
            "/.well-known/jwks.json": jwks(key=SHOP_KEY, kid=SHOP_KID),
            "/internal/staff/jwks.json": jwks(key=STAFF_KEY, kid=STAFF_KID),
        }
    )

    def both_keys_fetched(gw: Gateway) -> bool:
        return (
            call(gw, "/api/v1/me", token=a_shopper_token()).status_code == 200
            and call(gw, ADMIN_PATH, token=a_staff_token()).status_code == 200
        )

    with running_gateway(
        topology=TOPOLOGY,
        settings=SETTINGS,
        workdir=tmp_path_factory.mktemp("admin-gateway"),
        handler=handler,
        ready=both_keys_fetched,
    ) as gw:
        yield gw


# --- a staff token with a second factor, from an allowlisted address ------------------------------


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/admin/v1/staff", "customers"),
        ("/admin/v1/customers/cus_1", "customers"),
        ("/admin/v1/products/prd_1/variants", "catalog"),
        ("/admin/v1/orders?status=placed", "orders"),
        ("/admin/v1/payments", "payments"),
    ],
)
def test_staff_token_with_mfa_reaches_the_service_with_its_claims(
    gateway: Gateway, path: str, service: str
) -> None:
    token = a_staff_token(roles=["operations", "support"])
    response = call(gateway, path, token=token)
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["service_port"] == TOPOLOGY.service(service).port
    assert seen["path"] == path
    assert len(seen["staff_claims"]) == 1
    claims = decoded_claims(seen["staff_claims"][0])
    assert claims["sub"] == STAFF_ID
    assert claims["aud"] == STAFF_AUDIENCE
    assert claims["roles"] == ["operations", "support"]
    assert (claims["mfa"], claims["amr"]) == (True, ["pwd", "otp"])
    assert seen["authorization"] is None  # the token itself stays at the gateway
    assert seen["customer_ids"] == []  # a staff member is not a shopper


def test_forwarded_claims_are_what_the_services_decode(gateway: Gateway) -> None:
    """The service side of the contract: `mercato.platform.staff` reads what the gateway forwards,
    and the audit trail's address is the caller's claim followed by the peer the allowlist checked."""
    browser = "203.0.113.7"  # what the admin app forwards for its user
    response = call(gateway, ADMIN_PATH, token=a_staff_token(), headers={"x-forwarded-for": browser})
    seen = response.json()
    # The gateway appends the peer it saw. (For a loopback peer Envoy appends its host's own address
    # instead of 127.0.0.1; either way the caller's claim stays first and the gateway's entry last.)
    [forwarded] = seen["forwarded_for"]
    claimed, appended = forwarded.split(",")
    assert claimed == browser and appended != browser
    scope = {
        "type": "http",
        "method": "GET",
        "path": ADMIN_PATH,
        "headers": [(b"x-forwarded-for", seen["forwarded_for"][0].encode())],
    }
    staff = current_staff(Request(scope), claims_header=seen["staff_claims"][0])
    assert staff.id == STAFF_ID
    assert staff.roles == {"operations"}
    assert staff.source_ip == f"{browser}, {appended}"


# --- tokens that are not good for the back office -----------------------------------------------


def test_admin_route_without_token_is_401(gateway: Gateway) -> None:
    problem = assert_problem(call(gateway, ADMIN_PATH), 401)
    assert problem["title"] == "Authentication required"


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(a_shopper_token(), id="shopper-token"),
        pytest.param(
            signed_token(key=SHOP_KEY, kid=SHOP_KID, subject=STAFF_ID, audience=STAFF_AUDIENCE, mfa=True),
            id="shopper-key-with-staff-audience",
        ),
        pytest.param(a_staff_token(audience="mercato-shop"), id="staff-key-with-shop-audience"),
        pytest.param(staff_token(key=Ed25519PrivateKey.generate(), kid=STAFF_KID), id="forged-signature"),
        pytest.param(a_staff_token(exp=int(time.time()) - 120, iat=int(time.time()) - 600), id="expired"),
        pytest.param(a_staff_token(iss="someone-else"), id="wrong-issuer"),
    ],
)
def test_token_not_from_the_staff_realm_is_401_on_admin_routes(gateway: Gateway, bad_token: str) -> None:
    response = call(gateway, ADMIN_PATH, token=bad_token)
    problem = assert_problem(response, 401)
    assert problem["title"] == "Authentication required"


def test_staff_token_is_401_on_shopper_routes(gateway: Gateway) -> None:
    """Different key and audience: a back-office token is no shopper's token."""
    assert_problem(call(gateway, "/api/v1/me", token=a_staff_token()), 401)
    assert_problem(call(gateway, "/api/v1/orders", token=a_staff_token(roles=["admin"])), 401)


@pytest.mark.parametrize(
    "mfa",
    [
        pytest.param(None, id="claim-missing"),
        pytest.param(False, id="false"),
        pytest.param("true", id="a-string"),
    ],
)
def test_staff_token_without_second_factor_is_403(gateway: Gateway, mfa: Any) -> None:
    response = call(gateway, ADMIN_PATH, token=a_staff_token(mfa=mfa, roles=["admin"]))
    problem = assert_problem(response, 403)  # stays 403: not the 401 that jwt_authn's 403s become
    assert problem["title"] == "Forbidden"
    assert "second factor is required" in problem["detail"]


# --- the claims header is the gateway's to set ---------------------------------------------------


def forged_claims() -> str:
    claims = {"sub": new_id("stf"), "roles": ["admin"], "mfa": True, "amr": ["pwd", "otp"]}
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


def test_client_sent_staff_claims_are_stripped_everywhere(gateway: Gateway) -> None:
    spoofed = {STAFF_CLAIMS_HEADER: forged_claims()}
    underscored = {STAFF_CLAIMS_HEADER.replace("-", "_"): forged_claims()}
    for path in ("/api/v1/products", "/admin/v1/auth/token"):  # a public route and the staff login
        for headers in (spoofed, underscored):
            seen = call(gateway, path, method="POST", headers=headers).json()
            assert seen["staff_claims"] == [] and seen["underscore_staff_claims"] == [], path
    # Alongside a valid token, only the verified claims arrive.
    seen = call(gateway, ADMIN_PATH, token=a_staff_token(roles=["support"]), headers=spoofed).json()
    assert len(seen["staff_claims"]) == 1
    assert decoded_claims(seen["staff_claims"][0])["roles"] == ["support"]
    # A shopper route never carries staff claims, and a staff route never a customer id.
    seen = call(gateway, "/api/v1/me", token=a_shopper_token(), headers=spoofed).json()
    assert seen["staff_claims"] == [] and seen["customer_ids"] == ["cus_test123"]
    seen = call(gateway, ADMIN_PATH, token=a_staff_token(), headers={IDENTITY: "cus_victim"}).json()
    assert seen["customer_ids"] == []


def test_forged_claims_alone_do_not_open_an_admin_route(gateway: Gateway) -> None:
    assert_problem(call(gateway, ADMIN_PATH, headers={STAFF_CLAIMS_HEADER: forged_claims()}), 401)


# --- the admin allowlist ------------------------------------------------------------------------


def test_staff_login_needs_no_token_from_an_allowlisted_address(gateway: Gateway) -> None:
    response = call(gateway, "/admin/v1/auth/token", method="POST")
    assert response.status_code == 200
    seen = response.json()
    assert seen["service_port"] == TOPOLOGY.service("customers").port
    assert seen["staff_claims"] == []


@pytest.mark.parametrize(
    ("path", "method", "with_token"),
    [
        pytest.param(ADMIN_PATH, "GET", True, id="staff-route-valid-token"),
        pytest.param(ADMIN_PATH, "GET", False, id="staff-route-no-token"),
        pytest.param("/admin/v1/products", "POST", True, id="catalog-staff-route"),
        pytest.param("/admin/v1/auth/token", "POST", False, id="staff-login"),
    ],
)
@pytest.mark.parametrize(
    "spoofed",
    [
        pytest.param({}, id="plain"),
        pytest.param({"x-forwarded-for": INSIDE, "x-real-ip": INSIDE}, id="spoofed-xff"),
    ],
)
def test_admin_routes_from_outside_the_allowlist_are_403(
    gateway: Gateway, path: str, method: str, with_token: bool, spoofed: dict[str, str]
) -> None:
    token = a_staff_token(roles=["admin"]) if with_token else None
    response = call(gateway, path, token=token, source=OUTSIDE, method=method, headers=spoofed)
    problem = assert_problem(response, 403)
    assert problem["title"] == "Forbidden"
    assert "network address" in problem["detail"]


def test_outside_the_allowlist_the_shop_is_still_open(gateway: Gateway) -> None:
    assert call(gateway, "/api/v1/products", source=OUTSIDE).status_code == 200
    assert call(gateway, "/api/v1/me", token=a_shopper_token(), source=OUTSIDE).status_code == 200


@pytest.mark.parametrize(
    ("offset", "allowlist", "allowed", "refused"),
    [
        pytest.param(22540, "127.0.0.2/31", OUTSIDE, INSIDE, id="another-network"),
        pytest.param(22700, "", None, INSIDE, id="empty-closes-the-door"),
    ],
)
def test_allowlist_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    offset: int,
    allowlist: str,
    allowed: str | None,
    refused: str,
) -> None:
    monkeypatch.setenv("MERCATO_GATEWAY_ADMIN_ALLOWLIST", allowlist)
    topology = Topology(offset=offset)  # no services behind it: a request let through answers 503
    envoy = start_envoy(topology, GatewaySettings(access_log=False), tmp_path)
    try:
        gateway = Gateway(topology.gateway_url, tmp_path / "envoy.log")
        assert_problem(call(gateway, "/admin/v1/auth/token", source=refused, method="POST"), 403)
        if allowed:
            assert_problem(call(gateway, "/admin/v1/auth/token", source=allowed, method="POST"), 503)
    finally:
        stop(envoy)


def test_allowlist_setting_rejects_what_is_not_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_GATEWAY_ADMIN_ALLOWLIST", "10.0.0.0/8, 192.168.1.7, fd00::/8")
    allowlist = [str(net) for net in GatewaySettings().admin_allowlist]
    assert allowlist == ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
    for wrong in ("10.0.0.5/8", "everyone"):  # host bits set would silently widen the list
        monkeypatch.setenv("MERCATO_GATEWAY_ADMIN_ALLOWLIST", wrong)
        with pytest.raises(ValueError, match="admin_allowlist"):
            GatewaySettings()


def test_admin_checks_sit_around_jwt_authn_in_the_chain() -> None:
    """The allowlist runs before anything else that may answer (an outsider learns nothing about
    tokens or rate limits); the MFA check needs jwt_authn's verified payload, so it runs after it."""
    listener = build_config(TOPOLOGY, SETTINGS)["static_resources"]["listeners"][0]
    filters = listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    names = [f["name"] for f in filters]
    assert names.index("mercato.admin_allowlist") == 1  # right after the header strip
    assert names.index("envoy.filters.http.jwt_authn") < names.index("mercato.staff_mfa")


# --- rate limits (last: drains the shared "auth" bucket) ----------------------------------------


def test_outsiders_cannot_drain_the_staff_login_bucket(gateway: Gateway) -> None:
    """The allowlist refuses before the rate limiter counts: outsiders spend no one's tokens."""
    flood = [call(gateway, "/admin/v1/auth/token", source=OUTSIDE, method="POST") for _ in range(15)]
    assert {r.status_code for r in flood} == {403}
    assert call(gateway, "/admin/v1/auth/token", method="POST").status_code == 200


def test_staff_login_draws_from_the_auth_bucket(gateway: Gateway) -> None:
    transport = httpx.HTTPTransport(local_address=INSIDE)
    time.sleep(1 / SETTINGS.auth_rate_per_second)  # at least one token back, whatever earlier tests took
    with httpx.Client(base_url=gateway.url, transport=transport, timeout=5) as client:
        statuses = [client.post("/admin/v1/auth/token").status_code for _ in range(SETTINGS.auth_burst + 5)]
        # Earlier tests drew from the same bucket, how many tokens are back depends on their timing (one a
        # second): at most a burst gets through, and a 429 within a few requests is the auth bucket's (the
        # default bucket allows hundreds a second).
        assert 1 <= statuses.count(200) <= SETTINGS.auth_burst, statuses
        limited = [status for status in statuses if status == 429]
        assert limited, statuses
        assert_problem(client.post("/admin/v1/auth/token"), 429)
        # The bucket is the shoppers' token refresh bucket too (at most one token refills meanwhile) ...
        statuses = [client.post("/api/v1/auth/refresh").status_code for _ in range(3)]
        assert statuses.count(429) >= 2, statuses
        # ... and not the default one: the rest of the back office is unaffected.
        bearer = {"authorization": f"Bearer {a_staff_token()}"}
        assert client.get(ADMIN_PATH, headers=bearer).status_code == 200


def test_upload_routes_take_files_larger_than_the_usual_body_limit(gateway: Gateway) -> None:
    """Product images and CSV imports may be up to ~10 MB; everything else stays at the 1 MiB limit."""
    body = b"x" * (3 * 1_048_576)
    headers = {"authorization": f"Bearer {a_staff_token(roles=['merchandising'])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        for path in ("/admin/v1/product-imports", "/admin/v1/images"):
            assert client.post(path, content=body, headers=headers).status_code == 200, path
        too_big = client.post("/admin/v1/products", content=body, headers=headers)
        assert too_big.status_code == 413
        assert too_big.headers["content-type"].startswith("application/problem+json")
        huge = client.post("/admin/v1/product-imports", content=b"x" * (11 * 1_048_576), headers=headers)
        assert huge.status_code == 413
