"""Customers HTTP routes: thin; they parse, call a use case, and shape the answer."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from mercato.platform.app import ReadSession, UnitOfWork
from mercato.platform.auth import CurrentCustomer
from mercato.platform.errors import BadRequest, UnprocessableEntity
from mercato.platform.idempotency import IdempotencyKey, idempotent
from mercato.platform.pagination import Page, Paging
from mercato.platform.staff import Staff, requires
from mercato.services.customers import password_reset, security, service
from mercato.services.customers.clients import Notifications
from mercato.services.customers.credentials import Passwords, TokenIssuer
from mercato.services.customers.schemas import (
    AddressIn,
    AddressOut,
    CustomerExport,
    CustomerLookup,
    CustomerOut,
    CustomerSummary,
    CustomerSupportView,
    ErasureIn,
    ErasureOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfilePatch,
    RefreshIn,
    RegisterIn,
    TokenIn,
    TokenOut,
)

router = APIRouter(prefix="/api/v1")
jwks_router = APIRouter(tags=["auth"])
support = APIRouter(prefix="/admin/v1/customers", tags=["customer support (staff: support or admin)"])


def _passwords(request: Request) -> Passwords:
    return request.app.state.passwords


def _issuer(request: Request) -> TokenIssuer:
    return request.app.state.issuer


def _notifications(request: Request) -> Notifications:
    return request.app.state.notifications


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
NotificationsDep = Annotated[Notifications, Depends(_notifications)]
# An export is refused rather than handed out without the devices and messages notifications holds.
EXPORT_RESPONSES: dict[int | str, dict[str, str]] = {
    503: {"description": "Notifications could not be reached for the devices and messages: retry later"}
}
IssuerDep = Annotated[TokenIssuer, Depends(_issuer)]
SupportStaff = Annotated[Staff, requires("support")]
OrderStaff = Annotated[Staff, requires("support", "operations")]  # who sees customers next to orders
CUSTOMER_ID = re.compile(r"^cus_[0-9A-Z]{1,40}$")


@router.post("/customers", status_code=201, response_model=CustomerOut, tags=["customers"])
async def register(
    body: RegisterIn, session: UnitOfWork, passwords: PasswordsDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Create an account. The password is stored as an argon2id hash and never echoed."""
    return await idempotent(
        session,
        scope="POST /customers",
        key=idempotency_key,
        request=body.model_dump(exclude={"password"}),  # no password material in the key store
        run=lambda: service.register(session, passwords, body),
    )


@router.post(
    "/auth/token",
    response_model=TokenOut,
    tags=["auth"],
    responses={
        401: {"description": "Wrong e-mail address or password"},
        429: {"description": "Too many wrong passwords for this account: wait `Retry-After` seconds"},
        503: {"description": "Every password check of this process is busy: retry after `Retry-After`"},
    },
)
async def token(request: Request, body: TokenIn, passwords: PasswordsDep, issuer: IssuerDep) -> TokenOut:
    """Sign in with e-mail and password: a short-lived access token and a rotating refresh token."""
    settings = request.app.state.settings
    limits = service.SignInLimits(
        failures=settings.sign_in_failures_per_account, window_seconds=settings.sign_in_failure_window_seconds
    )
    db = request.app.state.db  # sign_in holds a connection only around its reads and its writes
    return await service.sign_in(db, passwords, issuer, body.email, body.password, limits=limits)


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    tags=["auth"],
    responses={401: {"description": "The refresh token is unknown, expired or was used already"}},
)
async def refresh(request: Request, body: RefreshIn, session: UnitOfWork, issuer: IssuerDep) -> TokenOut:
    """Exchange a refresh token for a new pair; the presented one stops working (after a few seconds'
    grace for a client that sent it twice at once, e.g. two tabs)."""
    leeway = request.app.state.settings.refresh_reuse_leeway_seconds
    return await service.refresh(session, issuer, body.refresh_token, reuse_leeway_seconds=leeway)


@router.post("/auth/logout-all", status_code=204, tags=["auth"])
async def logout_all(customer_id: CurrentCustomer, session: UnitOfWork) -> Response:
    """Sign out everywhere: every refresh token of the account is revoked, and every service refuses the
    access tokens issued until now (this one included)."""
    await security.sign_out_everywhere(session, customer_id)
    return Response(status_code=204)


@router.post(
    "/auth/password-reset",
    status_code=202,
    tags=["auth"],
    response_class=Response,
    responses={202: {"description": "Accepted: an e-mail goes out if the address is an account's"}},
)
async def request_password_reset(request: Request, body: PasswordResetIn, tasks: BackgroundTasks) -> Response:
    """E-mail a single-use link to reset a forgotten password. 202 whatever the address, at once: the
    account is looked up afterwards, so the answer says nothing about whether it exists."""
    ttl = request.app.state.settings.password_reset_ttl_minutes
    tasks.add_task(password_reset.request_reset, request.app.state.db, body.email, ttl_minutes=ttl)
    return Response(status_code=202)


@router.post(
    "/auth/password-reset/confirm",
    status_code=204,
    tags=["auth"],
    responses={400: {"description": "The token is unknown, expired or was used already"}},
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, session: UnitOfWork, passwords: PasswordsDep
) -> Response:
    """Set a new password with the e-mailed token (once, before it expires); every session of the
    account ends. 400 if the token is used, expired or unknown; 422 if the password is weak."""
    await password_reset.confirm_reset(session, passwords, body.token, body.new_password)
    return Response(status_code=204)


@router.post(
    "/me/password",
    status_code=204,
    tags=["me"],
    responses={403: {"description": "The current password is not correct"}},
)
async def change_password(
    body: PasswordChangeIn, customer_id: CurrentCustomer, session: UnitOfWork, passwords: PasswordsDep
) -> Response:
    """Change the password, given the current one. Every session of the account ends, this one too:
    sign in again with the new password."""
    await security.change_password(session, passwords, customer_id, body.current_password, body.new_password)
    return Response(status_code=204)


@router.get("/me", response_model=CustomerOut, tags=["me"])
async def me(customer_id: CurrentCustomer, session: ReadSession) -> CustomerOut:
    return await service.profile(session, customer_id)


@router.patch("/me", response_model=CustomerOut, tags=["me"])
async def update_me(body: ProfilePatch, customer_id: CurrentCustomer, session: UnitOfWork) -> CustomerOut:
    """Change name, phone, preferences and communication opt-ins; omitted fields stay as they are."""
    return await service.update_profile(session, customer_id, body)


@router.delete("/me", status_code=204, tags=["me"])
async def erase_me(customer_id: CurrentCustomer, session: UnitOfWork) -> Response:
    """Close the account now and erase personal data (GDPR Art. 17)."""
    await service.erase(session, customer_id)
    return Response(status_code=204)


@router.get("/me/export", response_model=CustomerExport, tags=["me"], responses=EXPORT_RESPONSES)
async def export_me(
    customer_id: CurrentCustomer, session: ReadSession, notifications: NotificationsDep
) -> CustomerExport:
    """Everything held about the caller, as JSON (GDPR Art. 20): profile, addresses and sessions, and from
    notifications their devices for push and every message written to them."""
    return await service.export(session, customer_id, notifications)


@router.get("/me/addresses", response_model=Page[AddressOut], tags=["me"])
async def addresses(customer_id: CurrentCustomer, session: ReadSession, paging: Paging) -> Page[AddressOut]:
    rows = await service.list_addresses(
        session, customer_id, after=paging.position.get("after"), limit=paging.fetch
    )
    return paging.page(rows, lambda last: {"after": last.id})


@router.post("/me/addresses", status_code=201, response_model=AddressOut, tags=["me"])
async def add_address(body: AddressIn, customer_id: CurrentCustomer, session: UnitOfWork) -> AddressOut:
    return await service.add_address(session, customer_id, body)


@router.delete("/me/addresses/{address_id}", status_code=204, tags=["me"])
async def delete_address(address_id: str, customer_id: CurrentCustomer, session: UnitOfWork) -> Response:
    await service.delete_address(session, customer_id, address_id)
    return Response(status_code=204)


@jwks_router.get("/.well-known/jwks.json")
@jwks_router.get("/api/v1/.well-known/jwks.json", include_in_schema=False)
async def jwks(issuer: IssuerDep, response: Response) -> dict:
    """Public keys that verify shopper access tokens (the gateway fetches and caches them)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return issuer.jwks


# --- customer support: every route is on the audit trail, so each runs in a unit of work ------------


@support.get("", response_model=Page[CustomerSummary])
async def find_customers(
    session: UnitOfWork,
    paging: Paging,
    staff: SupportStaff,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=320,
            description="A customer id, e-mail address or full name (exact; case and spacing aside).",
        ),
    ] = None,
) -> Page[CustomerSummary]:
    """Look customers up, newest first (erased ones too: their ids remain)."""
    if paging.position and paging.position.get("q") != q:
        raise BadRequest("This cursor is for another search.", errors={"cursor": "is for another search"})
    rows = await service.find_customers(
        session, q, before=paging.position.get("before"), limit=paging.fetch, staff=staff
    )
    return paging.page(rows, lambda last: {"before": last.id, "q": q})


@support.get("/lookup", response_model=CustomerLookup)
async def look_customers_up(
    session: UnitOfWork,
    staff: OrderStaff,
    id: Annotated[
        list[str],
        Query(
            min_length=1,
            max_length=100,
            description="Customer ids (`cus_…`), the parameter repeated: up to 100.",
        ),
    ],
) -> CustomerLookup:
    """Many customers by id at once — name, e-mail, status — for a page that lists them (the back
    office's orders); ids that match nobody are left out. Support and operations."""
    if bad := [value for value in id if not CUSTOMER_ID.match(value)]:
        raise UnprocessableEntity(
            "Those are not customer ids.", errors={"id": f"{bad[0][:40]!r} is not cus_…"}
        )
    return CustomerLookup(data=await service.customers_by_ids(session, id, staff=staff))


@support.get("/{customer_id}", response_model=CustomerSupportView)
async def customer_for_support(
    customer_id: str, session: UnitOfWork, staff: SupportStaff
) -> CustomerSupportView:
    """A customer's profile, opt-ins and address book, and whether the account was erased."""
    return await service.support_view(session, customer_id, staff=staff)


@support.get("/{customer_id}/export", response_model=CustomerExport, responses=EXPORT_RESPONSES)
async def export_for_support(
    customer_id: str, session: UnitOfWork, staff: SupportStaff, notifications: NotificationsDep
) -> CustomerExport:
    """The customer's GDPR export (what /me/export gives them), for a request made to support."""
    return await service.support_export(session, customer_id, notifications, staff=staff)


@support.post("/{customer_id}/erasure", response_model=ErasureOut)
async def erase_for_support(
    customer_id: str, body: ErasureIn, session: UnitOfWork, staff: SupportStaff
) -> ErasureOut:
    """GDPR erasure on the customer's request: the same as their own DELETE /me. Idempotent."""
    return await service.erase_on_request(session, customer_id, body.reason, staff=staff)
