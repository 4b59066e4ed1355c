"""The staff member behind an admin request, as verified by the gateway, and the audit trail.

On `/admin/v1/*` routes Envoy verifies the staff token (signature with the staff key, issuer,
audience `mercato-admin`, expiry), refuses it without the `mfa` claim or from an address outside the
admin allowlist, strips any client-sent copy of `x-mercato-staff-claims`, and forwards the verified
payload in that header. Services trust it for the same reason they trust `x-mercato-customer-id`:
only the gateway and sibling services can reach them.

Routes declare the roles they need with `requires(...)`; `admin` passes every check. Every change a
staff member makes is recorded with `record_staff_action` inside the same unit of work, so the audit
trail has exactly the actions that happened.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import StaffActionRecorded
from mercato.contracts.staff import ROLES, STAFF_CLAIMS_HEADER, Role
from mercato.platform.errors import Forbidden, Unauthorized
from mercato.platform.ids import is_id
from mercato.platform.outbox import record_event


@dataclass(frozen=True)
class Staff:
    id: str
    roles: frozenset[Role]
    source_ip: str | None

    def may(self, *roles: Role) -> bool:
        return "admin" in self.roles or any(role in self.roles for role in roles)


def _decode_claims(raw: str) -> dict[str, Any]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def client_ip(request: Request) -> str | None:
    """Where the request came from, as `x-forwarded-for` lists it, kept whole as the audit trail's "from
    where": entries before the last are what the caller claimed (the admin app forwards its user's
    browser address); the last is what Envoy appended for the connection (the admin allowlist checked
    that connection's own address; for a loopback peer Envoy appends the host's address instead)."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return ", ".join(part.strip() for part in forwarded.split(",") if part.strip())[:200] or None
    return request.client.host if request.client else None


STAFF_SCHEME = "StaffIdentity"
# Documented as the operation's security requirement (401 without it, 403 without the role).
_staff = APIKeyHeader(
    name=STAFF_CLAIMS_HEADER,
    scheme_name=STAFF_SCHEME,
    description="The staff member's verified claims (id, roles, second factor), set by the gateway from a "
    "staff token; a client's own copy is stripped.",
    auto_error=False,
)


def current_staff(request: Request, claims_header: Annotated[str | None, Security(_staff)] = None) -> Staff:
    claims = _decode_claims(claims_header or "")
    staff_id, roles = claims.get("sub"), claims.get("roles")
    if not isinstance(staff_id, str) or not is_id(staff_id, "stf") or claims.get("mfa") is not True:
        raise Unauthorized("A staff access token with a verified second factor is required.")
    granted = frozenset(role for role in roles if role in ROLES) if isinstance(roles, list) else frozenset()
    return Staff(id=staff_id, roles=granted, source_ip=client_ip(request))


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def requires(*roles: Role) -> Any:
    """A dependency that lets through staff holding one of `roles` (or `admin`), and answers 403 otherwise."""

    def check(staff: CurrentStaff) -> Staff:
        if not staff.may(*roles):
            raise Forbidden(f"This needs the {' or '.join(roles) or 'admin'} role.")
        return staff

    return Depends(check)


async def record_staff_action(
    session: AsyncSession,
    staff: Staff,
    action: str,
    *,
    service: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, str | int | float | bool | None] | None = None,
) -> None:
    """Put the action on the audit trail, in the caller's transaction (so only what happened is there)."""
    event = StaffActionRecorded(
        staff_id=staff.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        source_ip=staff.source_ip,
        service=service,
        details=details or {},
        occurred_at=datetime.now(UTC),
    )
    await record_event(session, event, aggregate_id=staff.id)
