"""The customers service: accounts, credentials, tokens, profiles and address books; the staff realm
(staff accounts, sign-in with TOTP, staff tokens) and the audit log of staff actions; customer support."""

from __future__ import annotations

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.customers.api import jwks_router, router, support
from mercato.services.customers.clients import Notifications
from mercato.services.customers.consumers import handlers
from mercato.services.customers.credentials import Passwords, TokenIssuer
from mercato.services.customers.service import SignInLimits, purge_sign_in_failures
from mercato.services.customers.settings import CustomersSettings
from mercato.services.customers.staff import api as staff_api
from mercato.services.customers.staff.credentials import StaffRealm
from mercato.services.customers.staff.sign_in import purge_expired_challenges


async def purge_old_sign_in_failures(app: FastAPI) -> None:
    settings = app.state.settings
    async with app.state.db.unit_of_work() as session:
        await purge_sign_in_failures(
            session, SignInLimits(window_seconds=settings.sign_in_failure_window_seconds)
        )


async def purge_staff_challenges(app: FastAPI) -> None:
    async with app.state.db.unit_of_work() as session:
        await purge_expired_challenges(session)


def build_app(settings: CustomersSettings | None = None) -> FastAPI:
    settings = settings or CustomersSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.passwords = Passwords(settings)
        app.state.issuer = TokenIssuer(settings)
        app.state.staff_realm = StaffRealm.from_settings(settings, passwords=app.state.passwords)
        app.state.notifications = Notifications(
            settings.notifications_url, timeout=settings.notifications_timeout_seconds
        )

    async def on_shutdown(app: FastAPI) -> None:
        await app.state.notifications.client.close()

    return create_app(
        settings=settings,
        title="Mercato customers",
        description="Accounts, credentials, access and refresh tokens (JWKS), profiles and address books; "
        "the staff realm (sign-in with TOTP, staff management), the audit log and customer support.",
        routers=[
            router,
            jwks_router,
            support,
            staff_api.auth,
            staff_api.management,
            staff_api.audit,
            staff_api.internal,
        ],
        periodic=[(600.0, purge_staff_challenges), (300.0, purge_old_sign_in_failures)],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
    )


app = build_app()
