"""RFC 9457 problem+json: the one place where errors become HTTP responses.

Use cases raise `Problem` subclasses; they never build responses. Framework errors (malformed JSON,
validation, unknown routes) are mapped here too, so a client never sees a 500 for bad input, and an
unexpected exception becomes a bare 500 problem that leaks no internals (it is logged with the
request id instead).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://mercato.dev/problems/"

log = logging.getLogger("mercato.errors")


class Problem(Exception):
    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
        slug: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.keep_changes = keep_changes
        if slug:
            self.slug = slug
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="mercato"'})
        super().__init__(detail, **kwargs)


class PaymentRequired(Problem):
    status, slug, title = 402, "payment-declined", "Payment declined"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnprocessableEntity(Problem):
    status, slug, title = 422, "validation-error", "Validation failed"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "body")


# Pydantic's messages for a value of the wrong JSON type, in the words of the API (bodies are strict).
_TYPE_MESSAGES = {
    "int_type": "must be an integer (a JSON number without a fraction, not a string or a boolean)",
    "int_from_float": "must be an integer (a JSON number without a fraction, not a string or a boolean)",
    "bool_type": "must be true or false (a JSON boolean, not a number or a string)",
    "string_type": "must be a string",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
}


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, dict[str, str]]:
    errors: dict[str, str] = {}
    malformed = bad_header = False
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            malformed = True
            errors["body"] = "is not valid JSON"
            continue
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "extra_forbidden":
            message = "is not a known field"
        message = _TYPE_MESSAGES.get(str(error.get("type")), message)
        if loc and loc[0] == "header":  # a header is the request's envelope: missing or bad is malformed
            bad_header = True
            message = "is required" if error.get("type") == "missing" else "is not valid"
        errors.setdefault(_field_path(loc), message)
    if malformed:
        return 400, "The request body is not valid JSON.", errors
    if bad_header:
        return 400, "A required header is missing or not valid; see `errors`.", errors
    return 422, "The request has invalid fields; see `errors`.", errors


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names only the first route that
    matched the path, so `/me` would claim to allow GET alone, not PATCH and DELETE)."""
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, detail, errors = _validation_errors(exc)
        title = "Malformed request" if status == 400 else "Validation failed"
        slug = "malformed-request" if status == 400 else "validation-error"
        return problem_response(status, title, detail, slug=slug, errors=errors, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
        title = titles.get(exc.status_code, "HTTP error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(exc.status_code, title, detail, headers=headers, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500,
            "Internal server error",
            "Something went wrong on our side; it has been logged.",
            slug="internal-error",
        )
