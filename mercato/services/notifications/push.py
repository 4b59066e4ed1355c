"""Push notifications through the providers' own protocols: APNs with aioapns, FCM HTTP v1 with google-auth.

* iOS: `aioapns.APNs` with token authentication — a JWT signed ES256 with the .p8 auth key (key id,
  team id), over one HTTP/2 connection kept open; `apns-topic` is the app's bundle id, `apns-push-type`
  `alert`. aioapns has no host option: its connection pool dials `protocol_class.APNS_SERVER` and
  `APNS_PORT` (Apple's production or development host, port 443), so `_apns_protocol` is a subclass of
  its TLS protocol with those two set to the configured host and port — with the default settings,
  the local stand-in, whose self-signed certificate is then the only one trusted (`apns_ca_file`).
  The TLS context offers ALPN `h2`, as Apple asks of HTTP/2 clients.
* Android: FCM HTTP v1. google-auth's service-account credentials sign a JWT with the key file's key
  and exchange it at the key file's `token_uri` for an OAuth 2.0 access token (refreshed before it
  expires), then `POST {fcm_base_url}/v1/projects/{project}/messages:send` with aiohttp. Why not
  firebase-admin: it uses the same google-auth underneath, but pulls in the Google API client, gRPC,
  Firestore and Cloud Storage for one REST call, sends synchronously, and has no supported way to
  point its send URL elsewhere; this is the path Google documents for HTTP v1 ("use the Google auth
  library to get an access token, then POST"), with nothing else on top.

Outcomes, for the dispatcher: the provider's id of the push; `DeviceGone` when the token is dead (APNs
410 Unregistered or 400 BadDeviceToken, FCM 404 UNREGISTERED): the device is removed; `PushRefused`
for another refusal of this push (final); anything else — a 5xx, 429, a connection error, bad
credentials (403 from APNs, 401/403 from FCM: an operator fixes them) — is retried.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import google.auth.transport.requests
from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsTLSClientProtocol
from google.oauth2 import service_account

from mercato.services.notifications.settings import NotificationsSettings

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class DeviceGone(Exception):
    """The provider says this device token is no longer valid: the app was uninstalled or the token
    replaced. Sending to it again can never succeed."""


class PushRefused(Exception):
    """The provider refused this push for good (a malformed payload, a topic the key may not push to)."""


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, DeviceGone | PushRefused)


def push_id(message_id: str) -> str:
    """A stable UUID per message (APNs wants one as `apns-id`): a resend after a crash carries the same."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mercato:message:{message_id}"))


class Apns:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._client: APNs | None = None

    def _connect(self) -> APNs:
        s = self.settings
        if not (s.apns_key_file and s.apns_key_id and s.apns_team_id):
            raise PushRefused(
                "APNs is not configured (MERCATO_NOTIFICATIONS_APNS_KEY_FILE, _KEY_ID, _TEAM_ID)"
            )
        context = ssl.create_default_context(cafile=str(s.apns_ca_file) if s.apns_ca_file else None)
        context.set_alpn_protocols(["h2"])

        async def quiet(request: NotificationRequest, result: Any) -> None:
            return None  # refusals are the dispatcher's to log, with the message they belong to

        client = APNs(
            key=s.apns_key_file.read_text(),  # read when first needed: the stand-in may make it late
            key_id=s.apns_key_id,
            team_id=s.apns_team_id,
            topic=s.apns_topic,
            use_sandbox=s.apns_use_sandbox,
            ssl_context=context,
            max_connection_attempts=1,  # the dispatcher retries, with backoff
            err_func=quiet,
        )
        client.pool.protocol_class = _apns_protocol(s.apns_host, s.apns_port)
        return client

    async def send(self, *, message_id: str, token: str, title: str, body: str, data: dict[str, str]) -> str:
        if self._client is None:
            self._client = self._connect()
        request = NotificationRequest(
            device_token=token,
            message={"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, **data},
            notification_id=push_id(message_id),
            push_type=PushType.ALERT,
        )
        try:
            result = await asyncio.wait_for(
                self._client.send_notification(request), self.settings.push_timeout_seconds
            )
        except Exception as exc:  # aioapns: ConnectionError, MaxAttemptsExceeded, ConnectionClosed
            raise ConnectionError(f"APNs did not answer: {type(exc).__name__}: {exc}") from exc
        if result.is_successful:
            return result.notification_id
        status, reason = int(result.status), result.description or ""
        if status == 410 or (status == 400 and reason == "BadDeviceToken"):
            raise DeviceGone(f"APNs {status} {reason}")
        if status in (403, 429) or status >= 500:
            raise RuntimeError(f"APNs {status} {reason}")
        raise PushRefused(f"APNs {status} {reason}")

    async def close(self) -> None:
        if self._client is not None:
            self._client.pool.close()


def _apns_protocol(host: str, port: int) -> type[APNsTLSClientProtocol]:
    """aioapns's TLS protocol, dialling `host:port` (see the module's docstring)."""
    return type("ConfiguredAPNsProtocol", (APNsTLSClientProtocol,), {"APNS_SERVER": host, "APNS_PORT": port})


class Fcm:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._credentials: service_account.Credentials | None = None
        self._project = settings.fcm_project_id
        self._http: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    async def _access_token(self, *, renew: bool = False) -> str:
        async with self._lock:
            if self._credentials is None:
                s = self.settings
                if s.fcm_service_account_file is None:
                    raise PushRefused(
                        "FCM is not configured (MERCATO_NOTIFICATIONS_FCM_SERVICE_ACCOUNT_FILE)"
                    )
                info = await asyncio.to_thread(_read_json, s.fcm_service_account_file)
                if s.fcm_token_uri:
                    info["token_uri"] = s.fcm_token_uri
                self._project = self._project or info.get("project_id", "")
                self._credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=[FCM_SCOPE]
                )
            if renew or not self._credentials.valid:
                # google-auth's own token exchange (a signed JWT for an access token); blocking: a thread
                await asyncio.to_thread(self._credentials.refresh, google.auth.transport.requests.Request())
            return str(self._credentials.token)

    async def send(self, *, message_id: str, token: str, title: str, body: str, data: dict[str, str]) -> str:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.push_timeout_seconds), trust_env=False
            )
        message = {
            "token": token,
            "notification": {"title": title, "body": body},
            "data": data,
            "android": {"priority": "high", "collapse_key": data.get("type", "mercato")},
        }
        for renew in (False, True):  # a token the provider no longer takes: one fresh one, then retry
            headers = {"Authorization": f"Bearer {await self._access_token(renew=renew)}"}
            url = f"{self.settings.fcm_base_url.rstrip('/')}/v1/projects/{self._project}/messages:send"
            async with self._http.post(url, json={"message": message}, headers=headers) as response:
                status, answer = response.status, await response.json(content_type=None)
            if status != 401:
                break
        if status == 200:
            return str(answer["name"])
        error = (answer or {}).get("error", {}) if isinstance(answer, dict) else {}
        codes = {d.get("errorCode") for d in error.get("details", []) if isinstance(d, dict)}
        text = f"FCM {status} {error.get('status', '')} {','.join(sorted(c for c in codes if c))}".strip()
        if "UNREGISTERED" in codes:
            raise DeviceGone(text)
        if status in (401, 403, 429) or status >= 500:
            raise RuntimeError(text)
        raise PushRefused(text)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


class Pusher:
    """Sends a push to one device of either platform."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.apns = Apns(settings)
        self.fcm = Fcm(settings)

    async def send(
        self, *, platform: str, message_id: str, token: str, title: str, body: str, data: dict[str, str]
    ) -> str:
        sender = self.apns if platform == "ios" else self.fcm
        return await sender.send(message_id=message_id, token=token, title=title, body=body, data=data)

    async def close(self) -> None:
        await self.apns.close()
        await self.fcm.close()
