"""Sending SMS through Twilio's Messaging API with the official `twilio` SDK, on asyncio.

`TwilioSms.send` is `client.messages.create_async(...)` on a `twilio.rest.Client` built with an
`AsyncTwilioHttpClient` (aiohttp), so the SDK's own request building, authentication and error
parsing are what run, against Twilio or against the local sandbox (`mercato.sandbox.sms`).

Pointing the SDK at the sandbox: the SDK has no base-URL option. Every request, whatever the
resource, is built by a `Domain` with a hard-coded `https://api.twilio.com` (or another
`*.twilio.com` host; `TWILIO_EDGE`/`TWILIO_REGION` may rewrite it to `api.<edge>.<region>.twilio.com`)
and then handed to `http_client.request(method, url, ...)`: the supported extension point, since
`Client(http_client=...)` accepts any `HttpClient`. So `_AsyncHttpClient`, a small subclass of
`AsyncTwilioHttpClient`, rewrites the scheme and host of `*.twilio.com` URLs to `api_base_url` there,
keeping path and query; paging URLs (`next_page_uri` made absolute by the SDK) go through the same place. With
`api_base_url=None` nothing is rewritten.

The subclass fixes three more things of the stock async client: it creates its aiohttp session on
first use (aiohttp wants a running loop, `__init__` may run outside one), it applies its own
`timeout` (the stock client passes only the per-call timeout, which is None, to aiohttp: no timeout),
and it sends the Basic credentials as a header (aiohttp 3.14 deprecates the `BasicAuth` the SDK uses).

Errors: Twilio's answers raise the SDK's `TwilioRestException` (`.status` HTTP status, `.code`
Twilio's error code such as 21211 for an invalid number); a failure to reach Twilio raises aiohttp's
`ClientError` or `TimeoutError`. `is_permanent(exc)` tells whether retrying the same message can help.
"""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_TIMEOUT_SECONDS = 10.0
# 4xx answers that are about the moment, not the message: a retry later may succeed.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 425, 429})


def redirect_url(url: str, api_base_url: str) -> str:
    """`https://api.twilio.com/2010-04-01/...?x=1` -> `{api_base_url}/2010-04-01/...?x=1`.
    URLs of hosts other than `twilio.com` and its subdomains are returned unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    base = urlsplit(api_base_url)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))


class _AsyncHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client, sending `*.twilio.com` requests to `api_base_url` when it is set."""

    def __init__(self, *, api_base_url: str | None, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout)  # no session yet: see `request`
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- the SDK's HttpClient interface
        allow_redirects: bool = False,
    ) -> Response:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        if self.api_base_url:
            url = redirect_url(url, self.api_base_url)
        if auth is not None:  # as a header: aiohttp >= 3.14 deprecates the BasicAuth the SDK would use
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {credentials}"}
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )

    async def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            await session.close()


class TwilioSms:
    """Sends SMS from one sender: `from_number` is an E.164 number, a short code or an alphanumeric
    sender ID, or a Messaging Service SID (`MG…`), which lets Twilio pick the sender."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._http = _AsyncHttpClient(api_base_url=api_base_url, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.from_number = from_number

    async def send(self, *, to: str, body: str) -> str:
        """Send one SMS; returns the Message SID (`SM…`). Raises `TwilioRestException` when Twilio
        refuses it, aiohttp's `ClientError` or `TimeoutError` when Twilio can't be reached."""
        sender: dict[str, Any] = (
            {"messaging_service_sid": self.from_number}
            if self.from_number.startswith("MG")
            else {"from_": self.from_number}
        )
        message = await self.client.messages.create_async(to=to, body=body, **sender)
        if not message.sid:
            raise TwilioRestException(502, "", "Twilio answered without a message SID", method="POST")
        return message.sid

    async def close(self) -> None:
        await self._http.close()

    async def __aenter__(self) -> TwilioSms:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def is_permanent(exc: BaseException) -> bool:
    """True when sending the same message again can't succeed: Twilio refused it with a 4xx (an
    invalid or unreachable number, 21211/21612/21614..., an empty body, 21602). False for everything
    that may pass: 5xx, 408/409/425/429 (rate limits), timeouts and connection errors, and bad
    credentials (401/403, 20003) — a configuration an operator fixes, after which the messages
    waiting for it must still go out."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        return 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES | {401, 403}
    return False
