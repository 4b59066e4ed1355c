"""Staff realm HTTP routes: sign-in, staff management, the audit log, and the staff JWKS (internal)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from mercato.platform.app import ReadSession, UnitOfWork
from mercato.platform.errors import BadRequest
from mercato.platform.idempotency import IdempotencyKey, idempotent
from mercato.platform.pagination import Instant, Page, Paging
from mercato.platform.staff import Staff, client_ip, requires
from mercato.services.customers.staff import service, sign_in
from mercato.services.customers.staff.credentials import StaffRealm
from mercato.services.customers.staff.schemas import (
    AuditEntryOut,
    EnrolmentRequired,
    MfaRequired,
    StaffCreated,
    StaffEnrolIn,
    StaffEnrolled,
    StaffIn,
    StaffLoginIn,
    StaffOut,
    StaffPatch,
    StaffRefreshIn,
    StaffTokenOut,
    StaffVerifyIn,
    TemporaryPasswordOut,
)

auth = APIRouter(prefix="/admin/v1/auth", tags=["staff sign-in (no token; admin allowlist)"])
management = APIRouter(prefix="/admin/v1/staff", tags=["staff management (admin)"])
audit = APIRouter(prefix="/admin/v1/audit", tags=["audit log (admin)"])
internal = APIRouter(
    prefix="/internal/staff", tags=["internal (service to service; never routed by the gateway)"]
)


def _realm(request: Request) -> StaffRealm:
    return request.app.state.staff_realm


RealmDep = Annotated[StaffRealm, Depends(_realm)]
Admin = Annotated[Staff, requires("admin")]


# --- sign-in -----------------------------------------------------------------------------------------


@auth.post(
    "/login",
    response_model=MfaRequired | EnrolmentRequired,
    responses={401: {"description": "Wrong e-mail address or password, or the account is locked"}},
)
async def login(
    body: StaffLoginIn, request: Request, session: UnitOfWork, realm: RealmDep
) -> MfaRequired | EnrolmentRequired:
    """The password step: a challenge for the second factor and, before the first sign-in, the TOTP
    secret to enrol (with its QR code). 401 for a wrong e-mail or password alike; 423 while locked."""
    return await sign_in.login(session, realm, body.email, body.password, source_ip=client_ip(request))


@auth.post(
    "/enrol",
    response_model=StaffEnrolled,
    responses={401: {"description": "The sign-in expired, or the code is wrong"}},
)
async def enrol(body: StaffEnrolIn, request: Request, session: UnitOfWork, realm: RealmDep) -> StaffEnrolled:
    """Confirm the authenticator with its first code: tokens, and ten recovery codes shown only now."""
    return await sign_in.enrol(session, realm, body, source_ip=client_ip(request))


@auth.post(
    "/verify",
    response_model=StaffTokenOut,
    responses={401: {"description": "The sign-in expired, or the code is wrong"}},
)
async def verify(
    body: StaffVerifyIn, request: Request, session: UnitOfWork, realm: RealmDep
) -> StaffTokenOut:
    """The second factor: `code` (TOTP; each code works once) or `recovery_code` (each works once)."""
    return await sign_in.verify(session, realm, body, source_ip=client_ip(request))


@auth.post(
    "/refresh",
    response_model=StaffTokenOut,
    responses={401: {"description": "The refresh token is unknown, expired or was used already"}},
)
async def refresh(body: StaffRefreshIn, session: UnitOfWork, realm: RealmDep) -> StaffTokenOut:
    """Exchange a refresh token for a new pair; the presented one stops working."""
    return await sign_in.refresh(session, realm, body.refresh_token)


@auth.post("/logout", status_code=204)
async def logout(body: StaffRefreshIn, request: Request, session: UnitOfWork) -> Response:
    """End this sign-in's session: its refresh tokens stop working (the access token lapses on its own)."""
    await sign_in.logout(session, body.refresh_token, source_ip=client_ip(request))
    return Response(status_code=204)


# --- staff management --------------------------------------------------------------------------------


@management.get("", response_model=Page[StaffOut])
async def list_staff(session: ReadSession, paging: Paging, staff: Admin) -> Page[StaffOut]:
    rows = await service.list_staff(session, after=paging.position.get("after"), limit=paging.fetch)
    return paging.page(rows, lambda last: {"after": last.id})


@management.post("", status_code=201, response_model=StaffCreated)
async def create_staff(
    body: StaffIn, session: UnitOfWork, realm: RealmDep, staff: Admin, idempotency_key: IdempotencyKey = None
) -> Response:
    """A new staff member. Without `password`, a temporary one is generated and shown in this answer
    only: it is never stored in clear, so a replay (same Idempotency-Key) answers without it."""
    shown: list[str] = []

    async def run() -> StaffCreated:
        created = await service.create_staff(session, realm, body, actor=staff)
        if created.temporary_password:
            shown.append(created.temporary_password)
        return created.model_copy(update={"temporary_password": None})  # what the key store keeps

    response = await idempotent(
        session,
        scope="POST /admin/v1/staff",
        key=idempotency_key,
        request=body.model_dump(mode="json", exclude={"password"}),
        run=run,
    )
    if not shown:
        return response
    first = StaffCreated.model_validate_json(response.body).model_copy(
        update={"temporary_password": shown[0]}
    )
    return Response(first.model_dump_json(), status_code=201, media_type="application/json")


@management.get("/{staff_id}", response_model=StaffOut)
async def get_staff(staff_id: str, session: ReadSession, staff: Admin) -> StaffOut:
    return await service.get_staff(session, staff_id)


@management.patch("/{staff_id}", response_model=StaffOut)
async def update_staff(staff_id: str, body: StaffPatch, session: UnitOfWork, staff: Admin) -> StaffOut:
    """Name, roles, active. 409 for taking away your own admin role or disabling yourself."""
    return await service.update_staff(session, staff_id, body, actor=staff)


@management.post("/{staff_id}/unlock", response_model=StaffOut)
async def unlock(staff_id: str, session: UnitOfWork, staff: Admin) -> StaffOut:
    """Lift a lockout now (and reset the failure count)."""
    return await service.unlock(session, staff_id, actor=staff)


@management.post("/{staff_id}/reset-mfa", response_model=StaffOut)
async def reset_mfa(staff_id: str, session: UnitOfWork, staff: Admin) -> StaffOut:
    """For a lost phone: forget the authenticator and recovery codes, end every session; the next
    sign-in enrols again."""
    return await service.reset_mfa(session, staff_id, actor=staff)


@management.post("/{staff_id}/reset-password", response_model=TemporaryPasswordOut)
async def reset_password(
    staff_id: str, session: UnitOfWork, realm: RealmDep, staff: Admin
) -> TemporaryPasswordOut:
    """For a forgotten password: a temporary one, shown once, to be replaced at the next sign-in."""
    return await service.reset_password(session, realm, staff_id, actor=staff)


# --- audit log ---------------------------------------------------------------------------------------


@audit.get("", response_model=Page[AuditEntryOut])
async def audit_log(
    session: ReadSession,
    paging: Paging,
    staff: Admin,
    staff_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="Exact, or a prefix ending in `.*`: `auth.*`.")
    ] = None,
    service_name: Annotated[
        str | None, Query(alias="service", max_length=50, description="Where it happened, e.g. `catalog`.")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=50)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[Instant | None, Query(alias="from", description="Inclusive (ISO 8601).")] = None,
    until: Annotated[Instant | None, Query(alias="to", description="Exclusive (ISO 8601).")] = None,
) -> Page[AuditEntryOut]:
    """What staff did, in any service, newest first."""
    filters = {
        "staff_id": staff_id,
        "action": action,
        "service": service_name,
        "target_type": target_type,
        "target_id": target_id,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
    }
    if paging.position and paging.position.get("filters") != filters:
        raise BadRequest("This cursor is for another listing.", errors={"cursor": "is for other filters"})
    before = (
        (datetime.fromisoformat(paging.position["at"]), paging.position["id"]) if paging.position else None
    )
    rows = await service.audit_log(
        session,
        staff_id=staff_id,
        action=action,
        service=service_name,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        before=before,
        limit=paging.fetch,
    )
    return paging.page(
        rows, lambda last: {"at": last.occurred_at.isoformat(), "id": last.id, "filters": filters}
    )


# --- internal ----------------------------------------------------------------------------------------


@internal.get("/jwks.json")
async def staff_jwks(realm: RealmDep, response: Response) -> dict:
    """Public keys that verify staff access tokens; the gateway fetches them here (never public)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return realm.issuer.jwks
