"""The OpenAPI document tells what is served: every error is problem+json, and each operation lists the
errors the kernel can answer for it, derived from what the route declares.

FastAPI documents a 422 in its own `HTTPValidationError` shape, which no Mercato service ever sends
(errors.py turns validation failures into problem+json), and knows nothing of the 400, 401, 403, 404
and 413 answers that the kernel's dependencies and middleware give. Rather than every route repeating
them, they are read off each operation: any request can be malformed (400: a NUL in its path or query
string); a JSON body can be malformed (400), too large (413) or invalid (422); a header can be missing
or malformed, a cursor forged (400); an Idempotency-Key reused for another request (409); a path names
something that may not exist (404); an operation that needs the identity the gateway verified (its
security requirement: the shopper's or the staff member's, see auth.py and staff.py) can answer 401, and
403 for a staff role. What
only a use case knows (409 out of stock, 402 declined …) stays declared on the route with `responses=`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mercato.platform.errors import PROBLEM_JSON
from mercato.platform.staff import STAFF_SCHEME

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` maps each invalid field to a message.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "description": "Field → message; or, for a file checked row by row, one entry per problem.",
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": "string"}},
                {"type": "array", "items": {"type": "object"}},
            ],
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON, a header is missing or not valid, a cursor is "
    "not one this API issued, or the path or query string holds a NUL (%00)",
    401: "Not signed in: the gateway did not pass a verified identity",
    403: "Signed in, but without the role this needs",
    404: "Not found",
    409: "This Idempotency-Key was already used for a different request",
    413: "The request body is too large",
    422: "Validation failed: `errors` says which fields and why",
}


def _kernel_errors(operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    statuses: set[int] = {400}  # any request: a NUL in its path or query string (app.py)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if parameters:
        statuses.add(422)
    if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
        statuses.add(409)
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if schemes:
        statuses.add(401)
    if STAFF_SCHEME in schemes:
        statuses.add(403)
    return statuses


def _document_problems(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status in sorted(_kernel_errors(operation)):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    if response.get("description") == "Validation Error":
                        response["description"] = DESCRIPTIONS[422]
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def install_openapi(app: FastAPI) -> None:
    """Serve the truthful document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _document_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
