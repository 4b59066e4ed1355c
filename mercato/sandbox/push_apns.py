"""The APNs stand-in's answers (see `mercato.sandbox.push`): Apple's provider API, checked as Apple checks
it, on the HTTP/2 listener of `mercato.sandbox.push_h2`."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt

from mercato.sandbox import push_keys
from mercato.sandbox.push_h2 import Handler

if TYPE_CHECKING:
    from mercato.sandbox.push import Pushes, PushSandboxSettings

APNS_TOKEN = re.compile(r"^[0-9a-fA-F]{64}$")
APNS_PUSH_TYPES = {"alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity"}
APNS_MAX_PAYLOAD = 4096


def _apns_reason(
    settings: PushSandboxSettings, headers: dict[str, str], token: str | None
) -> tuple[int, str]:
    """(status, reason) of an APNs request's headers: (200, "") when they are right."""
    if token is None:
        return 404, "BadPath"
    if headers.get(":method") != "POST":
        return 405, "MethodNotAllowed"
    authorization = headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return 403, "MissingProviderToken"
    try:
        header = jwt.get_unverified_header(authorization[7:])
        claims = jwt.decode(
            authorization[7:],
            push_keys.apns_public_key(settings.keys_dir),
            algorithms=["ES256"],
            options={"require": ["iss", "iat"], "verify_iat": False},
        )
    except jwt.PyJWTError:
        return 403, "InvalidProviderToken"
    if header.get("kid") != push_keys.APNS_KEY_ID or claims["iss"] != push_keys.APNS_TEAM_ID:
        return 403, "InvalidProviderToken"
    if not time.time() - 3600 <= float(claims["iat"]) <= time.time() + 60:
        return 403, "ExpiredProviderToken"
    if headers.get("apns-topic") != settings.apns_topic:
        return 400, "TopicDisallowed" if headers.get("apns-topic") else "MissingTopic"
    if headers.get("apns-push-type") not in APNS_PUSH_TYPES:
        return 400, "InvalidPushType"
    if not APNS_TOKEN.match(token):
        return 400, "BadDeviceToken"
    return 200, ""


def _token_header(authorization: str) -> dict[str, Any] | None:
    """What the provider token said (its header's `alg` and `kid`, its `iss`), for the record: the
    status says whether it checked out."""
    try:
        token = authorization[7:]
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
        return {"alg": header.get("alg"), "kid": header.get("kid"), "iss": claims.get("iss")}
    except jwt.PyJWTError:
        return None


def _apns_payload(body: bytes) -> tuple[int, str, dict[str, Any] | None]:
    if not body:
        return 400, "PayloadEmpty", None
    if len(body) > APNS_MAX_PAYLOAD:
        return 413, "PayloadTooLarge", None
    try:
        payload = json.loads(body)
    except ValueError:
        return 400, "BadPayload", None
    if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
        return 400, "BadPayload", None
    return 200, "", payload


def apns_handler(pushes: Pushes, settings: PushSandboxSettings) -> Handler:
    """What answers `POST /3/device/<token>` on the HTTP/2 listener (`mercato.sandbox.push_h2`)."""

    async def device(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = headers.get(":path", "")
        token = path.removeprefix("/3/device/") if path.startswith("/3/device/") else None
        apns_id = headers.get("apns-id") or str(uuid.uuid4())
        status, reason = _apns_reason(settings, headers, token)
        payload = None
        if status == 200:
            status, reason, payload = _apns_payload(body)
        if status == 200 and token is not None and token.lower() in pushes.gone:
            status, reason = 410, "Unregistered"
        alert = ((payload or {}).get("aps") or {}).get("alert")
        pushes.keep(
            "apns",
            status,
            reason or None,
            provider_token=_token_header(headers.get("authorization", "")),
            token=token,
            http_version="2",  # this listener speaks nothing else
            headers={k: v for k, v in headers.items() if k.startswith("apns-")},
            title=alert.get("title") if isinstance(alert, dict) else alert,
            body=alert.get("body") if isinstance(alert, dict) else None,
            data={k: v for k, v in (payload or {}).items() if k != "aps"},
            payload=payload,
        )
        answer_headers = {"apns-id": apns_id}
        if status == 200:
            return 200, answer_headers, b""
        answer: dict[str, Any] = {"reason": reason}
        if status == 410 and token is not None:
            answer["timestamp"] = pushes.gone[token.lower()]
        return status, answer_headers, json.dumps(answer).encode()

    return device
