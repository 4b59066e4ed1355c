"""The push stand-ins (`mercato.sandbox.push`) as a real process, spoken to over the wire: HTTP/2 over
TLS as APNs, and Google's OAuth token endpoint and FCM HTTP v1 — what they accept, what they refuse
the way Apple and Google do, and what they show. (The notifications service's real clients against
them: tests/notifications/test_push.py.)"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import google.auth.transport.requests
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account

from mercato.topology import Topology
from tests.sandbox.processes import StandIn

TOPOLOGY = Topology(offset=17500)  # ports below the ephemeral range, clear of other tests
APNS = f"https://127.0.0.1:{TOPOLOGY.push_sandbox_apns_port}"
WEB = TOPOLOGY.push_sandbox_url
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("push-stand-ins")
    sandbox = StandIn(
        module="mercato.sandbox.push",
        env={
            "MERCATO_PORT_OFFSET": str(TOPOLOGY.offset),
            "MERCATO_PUSH_SANDBOX_KEYS_DIR": str(root / "keys"),
        },
        health_url=f"{WEB}/_sandbox/health",
        log_file=root / "sandbox.log",
        ports_to_check=(TOPOLOGY.push_sandbox_port, TOPOLOGY.push_sandbox_apns_port),
    )
    sandbox.start()
    yield root / "keys"
    sandbox.stop()


def _provider_token(keys: Path, *, key=None, kid="MERCATO0KY", iss="MERCATO0TM", iat=None) -> str:
    key = key or serialization.load_pem_private_key((keys / "push-sandbox-apns-key.p8").read_bytes(), None)
    claims = {"iss": iss, "iat": int(time.time()) if iat is None else iat}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def _apns(keys: Path, token: str, *, http2: bool = True, **overrides) -> httpx.Response:
    headers = {
        "authorization": f"bearer {_provider_token(keys)}",
        "apns-topic": "org.mercato.shop",
        "apns-push-type": "alert",
        "apns-id": str(uuid.uuid4()),
    }
    headers.update({k.replace("_", "-"): v for k, v in overrides.items() if k != "body"})
    headers = {k: v for k, v in headers.items() if v is not None}
    body = overrides.get("body", {"aps": {"alert": {"title": "Hi", "body": "There"}}, "order_id": "ord_1"})
    context = ssl.create_default_context(cafile=str(keys / "push-sandbox-tls.pem"))
    with httpx.Client(http2=http2, http1=not http2, verify=context) as client:
        return client.post(f"{APNS}/3/device/{token}", headers=headers, content=json.dumps(body).encode())


def _pushes(token: str) -> list[dict]:
    return httpx.get(f"{WEB}/_sandbox/pushes", params={"token": token}).json()["data"]


def test_apns_accepts_a_well_formed_push_over_http2_and_keeps_it(keys):
    token = uuid.uuid4().hex * 2
    response = _apns(keys, token)
    assert response.status_code == 200 and response.http_version == "HTTP/2"
    assert response.content == b""  # as Apple: the HEADERS frame ends the stream
    assert response.headers["apns-id"]
    [push] = _pushes(token)
    assert (push["provider"], push["status"], push["title"], push["body"]) == ("apns", 200, "Hi", "There")
    assert push["data"] == {"order_id": "ord_1"} and push["headers"]["apns-topic"] == "org.mercato.shop"


@pytest.mark.parametrize(
    ("overrides", "status", "reason"),
    [
        ({"authorization": None}, 403, "MissingProviderToken"),
        ({"authorization": "bearer not-a-jwt"}, 403, "InvalidProviderToken"),
        ({"apns_topic": "com.example.other"}, 400, "TopicDisallowed"),
        ({"apns_push_type": None}, 400, "InvalidPushType"),
        ({"body": {"no": "aps"}}, 400, "BadPayload"),
        ({"body": {"aps": {"alert": "x" * 5000}}}, 413, "PayloadTooLarge"),
    ],
)
def test_apns_refuses_what_apple_refuses(keys, overrides, status, reason):
    response = _apns(keys, uuid.uuid4().hex * 2, **overrides)
    assert response.status_code == status, response.text
    assert response.json()["reason"] == reason


def test_apns_checks_the_provider_token_signature_key_id_team_and_age(keys):
    other_key = ec.generate_private_key(ec.SECP256R1())
    for token, reason in [
        (_provider_token(keys, key=other_key), "InvalidProviderToken"),
        (_provider_token(keys, kid="OTHERKEY00"), "InvalidProviderToken"),
        (_provider_token(keys, iss="OTHERTEAM0"), "InvalidProviderToken"),
        (_provider_token(keys, iat=int(time.time()) - 7200), "ExpiredProviderToken"),
    ]:
        response = _apns(keys, uuid.uuid4().hex * 2, authorization=f"bearer {token}")
        assert (response.status_code, response.json()["reason"]) == (403, reason)


def test_apns_says_bad_device_token_and_unregistered(keys):
    assert _apns(keys, "abc123").json()["reason"] == "BadDeviceToken"
    gone = uuid.uuid4().hex * 2
    assert httpx.post(f"{WEB}/_sandbox/unregistered", json={"token": gone.upper()}).status_code == 200
    response = _apns(keys, gone)
    assert response.status_code == 410
    assert response.json()["reason"] == "Unregistered" and response.json()["timestamp"] > 0


def test_apns_speaks_only_http2(keys):
    with pytest.raises(httpx.HTTPError):  # an HTTP/1.1 client is disconnected
        _apns(keys, uuid.uuid4().hex * 2, http2=False)


def _credentials(keys: Path, info: dict | None = None) -> service_account.Credentials:
    info = info or json.loads((keys / "push-sandbox-fcm-service-account.json").read_text())
    return service_account.Credentials.from_service_account_info(info, scopes=[FCM_SCOPE])


def test_fcm_issues_an_access_token_for_the_service_account_and_sends_with_it(keys):
    credentials = _credentials(keys)
    assert credentials._token_uri == f"{WEB}/token"  # the key file names the stand-in's token endpoint
    credentials.refresh(google.auth.transport.requests.Request())  # google-auth's own JWT-bearer grant
    assert credentials.valid and credentials.token.startswith("ya29.")

    token = f"dev-{uuid.uuid4().hex}:APA91b{uuid.uuid4().hex}"
    message = {"token": token, "notification": {"title": "Hi", "body": "There"}, "data": {"type": "test"}}
    url = f"{WEB}/v1/projects/mercato-sandbox/messages:send"
    sent = httpx.post(
        url, json={"message": message}, headers={"Authorization": f"Bearer {credentials.token}"}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["name"].startswith("projects/mercato-sandbox/messages/")
    [push] = _pushes(token)
    assert (push["provider"], push["title"], push["data"]) == ("fcm", "Hi", {"type": "test"})

    httpx.post(f"{WEB}/_sandbox/unregistered", json={"token": token})
    gone = httpx.post(
        url, json={"message": message}, headers={"Authorization": f"Bearer {credentials.token}"}
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["details"][0]["errorCode"] == "UNREGISTERED"


def test_fcm_refuses_an_assertion_not_signed_by_the_service_accounts_key(keys):
    info = json.loads((keys / "push-sandbox-fcm-service-account.json").read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(RefreshError, match="invalid_grant"):
        _credentials(keys, info).refresh(google.auth.transport.requests.Request())


@pytest.mark.parametrize(
    ("bearer", "project", "message", "status", "code"),
    [
        (None, "mercato-sandbox", {"token": "t" * 40}, 401, "UNAUTHENTICATED"),
        ("ya29.forged", "mercato-sandbox", {"token": "t" * 40}, 401, "UNAUTHENTICATED"),
        ("valid", "someone-else", {"token": "t" * 40}, 403, "PERMISSION_DENIED"),
        ("valid", "mercato-sandbox", {"token": "t" * 40, "data": {"n": 1}}, 400, "INVALID_ARGUMENT"),
        ("valid", "mercato-sandbox", {"notification": {"title": "x"}}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_fcm_refuses_what_google_refuses(keys, bearer, project, message, status, code):
    if bearer == "valid":
        credentials = _credentials(keys)
        credentials.refresh(google.auth.transport.requests.Request())
        bearer = credentials.token
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = httpx.post(
        f"{WEB}/v1/projects/{project}/messages:send", json={"message": message}, headers=headers
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["status"] == code


def test_the_web_view_shows_every_push(keys):
    token = uuid.uuid4().hex * 2
    _apns(keys, token)
    page = httpx.get(f"{WEB}/", params={"token": token})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert token in page.text and "Hi" in page.text and "HTTP/2" in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
