"""Signing in to the back office: e-mail and password, then the second factor — enrolment (QR code,
first code, recovery codes) the first time, a TOTP code or a recovery code after that. And the start page."""

from __future__ import annotations

import base64
import io
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
import segno
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from mercato.admin import session
from mercato.admin.web import caller, cookies, field_errors, gw, problem, render, settings
from mercato.webkit.gateway import NotFound

CHALLENGE_MINUTES = 5


class Forbidden(Exception):
    """The gateway or a service said this staff member's role may not do that."""


def checked(response: httpx.Response, part: str = "admin") -> httpx.Response:
    """An admin API answer, with 403 and 404 turned into the app's error pages."""
    if response.status_code == 403:
        raise Forbidden
    if response.status_code == 404:
        raise NotFound(part, str(response.request.url.path))
    return response


async def csrf(request: Request) -> None:
    await cookies.check_csrf(request, settings.session_secret.get_secret_value())


router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None) -> str:
    parts = urlsplit(target or "/")
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path or path.startswith("/login"):
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


def field(form: Any, name: str, limit: int = 1024) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def forwarded(request: Request) -> dict[str, str]:
    return {"x-forwarded-for": session.browser_address(request)}


def with_challenge(response: Response, request: Request, challenge: str) -> Response:
    response.set_cookie(
        session.CHALLENGE_COOKIE, challenge, max_age=CHALLENGE_MINUTES * 60, **cookies.options(request)
    )
    return response


def refused(response: httpx.Response, fallback: str) -> str:
    """What to tell someone whose sign-in step failed: locked accounts say so, the rest stays vague."""
    if response.status_code in (423, 429):
        return str(problem(response).get("detail") or "Too many attempts. Try again later.")
    return fallback


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.jinja", next=local_path(next), email="")


@posts.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    email, target = field(form, "email", 320), local_path(field(form, "next"))
    response = await gw(request).send(
        "staff",
        "POST",
        "/admin/v1/auth/login",
        json={"email": email, "password": field(form, "password")},
        headers=forwarded(request),
    )
    if response.status_code != 200:
        error = refused(response, "That e-mail and password don't match a staff account.")
        return render(request, "login.jinja", 401, next=target, email=email, error=error)
    step = response.json()
    change = bool(step.get("password_change_required"))
    if step.get("status") == "enrolment_required":
        page = enrol_page(request, str(step.get("otpauth_uri") or ""), next=target, change_password=change)
        assert page is not None  # the URI customers made
        return with_challenge(page, request, step["challenge"])
    query = urlencode({"next": target} | ({"change_password": "1"} if change else {}))
    return with_challenge(redirect(f"/login/verify?{query}"), request, step["challenge"])


OTPAUTH = re.compile(r"^otpauth://totp/[^?#\s]{1,400}\?[^#\s]{1,600}$")


def password_hint(email: str) -> str:
    """The new-password rules up front (customers' password_problems checks the same)."""
    local_part = email.split("@", 1)[0]
    rules = "At least 10 characters, not a common one"
    if len(local_part) >= 4:
        rules += f", and not containing “{local_part}” (your e-mail address)"
    return rules + ". Your current password was set by someone else."


def enrol_page(request: Request, uri: str, status_code: int = 200, **context: Any) -> Response | None:
    """The enrolment page for the authenticator `uri` (otpauth://…): its QR code, drawn here, the key,
    and the password rules for the account's e-mail. None if `uri` is not an otpauth TOTP URI."""
    if not OTPAUTH.match(uri):
        return None
    parts = urlsplit(uri)
    secret = (parse_qs(parts.query).get("secret") or [""])[0]
    email = unquote(parts.path.lstrip("/")).rsplit(":", 1)[-1]
    if not re.fullmatch(r"[A-Z2-7]{16,128}", secret):
        return None
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, scale=4, border=4)
    qr = base64.b64encode(buffer.getvalue()).decode()
    context.setdefault("errors", {})
    return render(
        request,
        "enrol.jinja",
        status_code,
        secret=secret,
        qr=qr,
        uri=uri,
        password_hint=password_hint(email),
        **context,
    )


def with_new_password(body: dict[str, str], form: Any) -> dict[str, str]:
    """A password someone else set (an admin, the seed) is replaced while signing in."""
    new_password = field(form, "new_password")
    return body | ({"new_password": new_password} if new_password else {})


@posts.post("/login/enrol")
async def enrol(request: Request) -> Response:
    form = await request.form()
    target = local_path(field(form, "next"))
    response = await gw(request).send(
        "staff",
        "POST",
        "/admin/v1/auth/enrol",
        json=with_new_password(
            {"challenge": request.cookies.get(session.CHALLENGE_COOKIE, ""), "code": field(form, "code", 10)},
            form,
        ),
        headers=forwarded(request),
    )
    if response.status_code == 422 and (errors := field_errors(response)):
        # Nothing was used up: the same authenticator (already scanned) and sign-in stay, only the
        # refused field is asked again.
        retry = enrol_page(
            request,
            field(form, "otpauth_uri", 1100),
            422,
            next=target,
            change_password=field(form, "change_password", 1) == "1",
            errors={
                name: f"This {message}." if name == "new_password" else message
                for name, message in errors.items()
            },
        )
        if retry is not None:
            return retry
        message = "; ".join(errors.values())
        return render(
            request, "login.jinja", 422, next=target, email="", error=f"{message} Sign in again to retry."
        )
    if response.status_code != 200:
        message = refused(response, "That code didn't match, or the sign-in expired. Sign in again to retry.")
        return render(request, "login.jinja", 401, next=target, email="", error=message)
    tokens = response.json()
    request.state.new_tokens = tokens
    return render(request, "recovery_codes.jinja", codes=tokens.get("recovery_codes") or [], next=target)


@router.get("/login/verify")
async def verify_page(request: Request, next: str = "/", change_password: bool = False) -> Response:
    if not request.cookies.get(session.CHALLENGE_COOKIE):
        return redirect("/login")
    return render(request, "verify.jinja", next=local_path(next), change_password=change_password)


@posts.post("/login/verify")
async def verify(request: Request) -> Response:
    form = await request.form()
    target = local_path(field(form, "next"))
    body: dict[str, str] = {"challenge": request.cookies.get(session.CHALLENGE_COOKIE, "")}
    if recovery := field(form, "recovery_code", 64):
        body["recovery_code"] = recovery
    else:
        body["code"] = field(form, "code", 10)
    response = await gw(request).send(
        "staff",
        "POST",
        "/admin/v1/auth/verify",
        json=with_new_password(body, form),
        headers=forwarded(request),
    )
    change = field(form, "change_password", 1) == "1"
    if response.status_code == 422 and (errors := field_errors(response)):
        message = "; ".join(errors.values())
        return render(request, "verify.jinja", 422, next=target, error=message, change_password=True)
    if response.status_code != 200:
        if response.status_code in (401, 410) and "expired" in str(problem(response).get("detail", "")):
            return redirect(f"/login?next={target}")
        error = refused(response, "That code didn't match. Check the time on your phone and try again.")
        return render(request, "verify.jinja", 401, next=target, error=error, change_password=change)
    request.state.new_tokens = response.json()
    return redirect(target)


@posts.post("/logout")
async def logout(request: Request) -> Response:
    refresh = request.cookies.get(cookies.refresh)
    if refresh:
        await gw(request).send(
            "staff",
            "POST",
            "/admin/v1/auth/logout",
            json={"refresh_token": refresh},
            headers=forwarded(request),
        )
    request.state.clear_tokens = True
    return redirect("/login")


@router.get("/")
async def home(request: Request) -> Response:
    staff = caller(request)
    await staff.ensure_signed_in()
    return render(request, "home.jinja", claims=staff.claims)


router.include_router(posts)
