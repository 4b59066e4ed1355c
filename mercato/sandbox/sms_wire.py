"""Twilio's wire conventions for the SMS sandbox: SIDs, dates, error bodies, validation, segments.

Everything here is about the protocol (what the official `twilio` SDK sends and expects back), so the
application in `sms.py` stays a short list of endpoints.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"
ERROR_DOCS = "https://www.twilio.com/docs/errors/"
MAX_BODY_CHARS = 1600

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# Twilio's magic test numbers (https://www.twilio.com/docs/iam/test-credentials): sending to them
# fails the way a real number with that problem would, so a client's error handling can be tested.
MAGIC_TO_NUMBERS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: +15005550002, is not currently reachable."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the "
        "'To' number: +15005550003.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

# GSM 03.38: the basic character set costs one septet, the extension table two (escape + char).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")


class TwilioError(Exception):
    """An error answered in Twilio's REST shape: `{"code", "message", "more_info", "status"}`."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"{ERROR_DOCS}{self.code}",
            "status": self.status,
            **self.extra,
        }


def authenticate_error() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def new_sid(prefix: str) -> str:
    """`SM` + 32 lowercase hex digits, like every Twilio resource SID."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    """Twilio's date format: `Thu, 24 Aug 2023 05:01:45 +0000`."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def now() -> datetime:
    return datetime.now(UTC)


def num_segments(body: str) -> int:
    """How many SMS parts a body needs: 160/153 GSM-7 septets, or 70/67 UCS-2 code units if any
    character is outside GSM-7 (one emoji turns the whole message into UCS-2, as on real phones)."""
    if all(char in _GSM_BASIC or char in _GSM_EXTENSION for char in body):
        units = sum(2 if char in _GSM_EXTENSION else 1 for char in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def validate_message(form: dict[str, list[str]]) -> tuple[str, str | None, str | None, str, int]:
    """Check a `POST .../Messages.json` form as Twilio does, in Twilio's order; returns
    (to, from, messaging_service_sid, body, number of media URLs) or raises `TwilioError`."""
    to = _first(form, "To").strip()
    sender = _first(form, "From").strip() or None
    service = _first(form, "MessagingServiceSid").strip() or None
    body = _first(form, "Body")
    media = [url for url in form.get("MediaUrl", []) if url]
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not _E164.match(to):
        raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if sender is None and service is None:
        raise TwilioError(
            400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
        )
    if service is not None and not _MESSAGING_SERVICE_SID.match(service):
        raise TwilioError(400, 21705, f"The Messaging Service Sid {service} is invalid.")
    if sender is not None and not (
        _E164.match(sender) or _SHORT_CODE.match(sender) or _ALPHANUMERIC_SENDER.match(sender)
    ):
        raise TwilioError(
            400,
            21212,
            f"The 'From' number {sender} is not a valid phone number, shortcode, or alphanumeric sender ID.",
        )
    if sender == to:
        raise TwilioError(400, 21266, "'To' and 'From' number cannot be the same")
    if not body.strip() and not media:
        raise TwilioError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if to in MAGIC_TO_NUMBERS:
        code, message = MAGIC_TO_NUMBERS[to]
        raise TwilioError(400, code, message)
    return to, sender, service, body, len(media)


def _first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def message_resource(
    *,
    sid: str,
    account_sid: str,
    to: str,
    sender: str | None,
    service: str | None,
    body: str,
    num_media: int,
    created: datetime,
) -> dict[str, Any]:
    """A Message resource as `POST .../Messages.json` answers it: accepted and queued, not yet sent."""
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": rfc2822(created),
        "date_sent": None,
        "date_updated": rfc2822(created),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": service,
        "num_media": str(num_media),
        "num_segments": str(num_segments(body)) if body else "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if sender is not None else "accepted",
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": to,
        "uri": f"{uri}.json",
    }


def as_sent(resource: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The same message once the (imaginary) carrier took it: what later fetches and lists show."""
    return {**resource, "status": "sent", "date_sent": rfc2822(moment), "date_updated": rfc2822(moment)}
