"""What every admin route shares: settings, templates, rendering a page, the gateway client, the caller."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mercato.admin.session import CHALLENGE_COOKIE, StaffCaller, claims_of
from mercato.admin.settings import AdminSettings
from mercato.webkit.cookies import SessionCookies, csrf_token
from mercato.webkit.gateway import GatewayClient
from mercato.webkit.money import decimal_string, format_money

settings = AdminSettings()
# SameSite=Strict: no request from another site ever carries a staff session.
cookies = SessionCookies(
    access="mercato_admin_access",
    refresh="mercato_admin_refresh",
    csrf="mercato_admin_csrf",
    samesite="strict",
    refresh_max_age=settings.refresh_cookie_hours * 3600,
    transient=(CHALLENGE_COOKIE,),
)

# Which sections of the back office each role sees (the services check the same roles on every call).
SECTIONS = (
    ("Products", "/products", {"merchandising"}),
    ("Inventory", "/inventory", {"merchandising"}),
    ("Shipping", "/shipping", {"merchandising"}),
    ("Promotions", "/promotions", {"merchandising"}),
    ("Imports", "/imports", {"merchandising"}),
    ("Orders", "/orders", {"operations", "support"}),
    ("Customers", "/customers", {"support"}),
    ("Gift cards", "/gift-cards", {"support", "operations"}),
    ("Reports", "/reports", {"operations", "merchandising"}),
    ("Staff", "/staff", set()),
    ("Audit log", "/audit", set()),
)


def format_when(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("jinja", "html", "svg"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["money_plain"] = decimal_string
    env.filters["when"] = format_when
    env.filters["label"] = lambda value: str(value or "").replace("_", " ").capitalize()
    return Jinja2Templates(env=env)


templates = make_templates()


def gw(request: Request) -> GatewayClient:
    return request.app.state.gateway


def caller(request: Request) -> StaffCaller:
    """The request's one caller: a second instance would refresh again with the spent refresh token,
    which ends the session (see `mercato.webkit.caller`)."""
    if not hasattr(request.state, "caller"):
        request.state.caller = StaffCaller(request, gw(request), cookies)
    return request.state.caller


def roles_of(request: Request) -> set[str]:
    tokens = getattr(request.state, "new_tokens", None)
    token = tokens["access_token"] if tokens else request.cookies.get(cookies.access)
    roles = claims_of(token).get("roles")
    return {str(role) for role in roles} if isinstance(roles, list) else set()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    roles = roles_of(request)
    context["csrf_token"] = csrf_token(request)
    context["signed_in"] = cookies.signed_in(request)
    context["roles"] = roles
    context["sections"] = [
        (label, href) for label, href, allowed in SECTIONS if "admin" in roles or roles & allowed
    ]
    context.setdefault("path", request.url.path)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    return response


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    return render(request, "error.jinja", status_code, title=title, message=message, status=status_code)


def problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def field_errors(response: Any) -> dict[str, str]:
    """A problem+json's per-field `errors`, keyed by the last part of each field's path."""
    errors = problem(response).get("errors")
    if isinstance(errors, dict):
        return {str(name).rsplit(".", 1)[-1]: str(message) for name, message in errors.items()}
    return {}
