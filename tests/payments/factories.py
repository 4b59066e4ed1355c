"""Keyword-only factories for payments tests."""

from __future__ import annotations

import base64
import json

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.platform.ids import new_id


def staff_headers(
    *, roles: tuple[str, ...] = ("operations",), mfa: bool = True, staff_id: str | None = None
) -> dict[str, str]:
    """The claims header the gateway forwards for a verified staff token (base64url JSON)."""
    claims = {"sub": staff_id or new_id("stf"), "roles": list(roles), "mfa": mfa, "amr": ["pwd", "otp"]}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {STAFF_CLAIMS_HEADER: encoded}


def requested_by(*, staff_id: str | None = None, source_ip: str = "203.0.113.7") -> dict[str, str]:
    """The `requested_by` of an internal refund: the staff member orders verified."""
    return {"staff_id": staff_id or new_id("stf"), "source_ip": source_ip}
