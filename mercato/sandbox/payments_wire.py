"""Stripe's wire conventions: ids, error bodies, bracket-notation form decoding, parameters, lists.

Everything here is about the protocol, not about payments, so the domain code can stay readable: it
raises `StripeError` and asks `Params` for typed values, and the shapes on the wire come out as the
official `stripe` SDK expects them.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

# The API version the sandbox claims to speak: the one pinned by the stripe-python release Mercato uses.
API_VERSION = "2026-10-28.endive"
DOC_URL = "https://docs.stripe.com/error-codes/"
MAX_FORM_FIELDS = 1000
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """An opaque id with Stripe's type prefix (`pi_…`, `ch_…`); random, so it sorts by nothing."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def now() -> int:
    return int(time.time())


class StripeError(Exception):
    """An error answered in Stripe's shape: `{"error": {"type", "message", "code", "param", ...}}`.

    `stored` says whether the idempotency layer keeps this outcome. Stripe saves the result of every
    request whose execution began (a card decline included) but not of one refused by validation, so
    a corrected retry with the same key is not stuck with the first mistake.
    """

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        stored: bool = False,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.stored = stored
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        error.update({k: v for k, v in self.extra.items() if v is not None})
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error: the request can't be carried out as asked."""
    return StripeError(400, "invalid_request_error", message, param=param, code=code)


def missing(label: str, object_id: str, *, param: str = "id") -> StripeError:
    """404 resource_missing, worded as Stripe words it (`No such payment_intent: 'pi_…'`)."""
    return StripeError(
        404, "invalid_request_error", f"No such {label}: '{object_id}'", param=param, code="resource_missing"
    )


def unexpected_state(message: str) -> StripeError:
    return invalid(message, code="payment_intent_unexpected_state")


# --- form decoding -------------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(body: bytes | str) -> dict[str, Any]:
    """Decode Stripe's bracket notation into nested dicts.

    `metadata[order_id]=7` becomes `{"metadata": {"order_id": "7"}}`. Arrays arrive as `expand[0]=a`
    (stripe-python) or `expand[]=a` (browsers, curl); both become `{"expand": {"0": "a"}}`, so two
    spellings of one request compare equal for idempotency, and `Params.strings` turns them into lists.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"Invalid request body: {exc}") from None
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if match is None:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        path = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(path):
            name = part if part else str(len(node))  # `[]` appends
            if depth == len(path) - 1:
                if isinstance(node.get(name), dict):
                    raise invalid(f"Invalid value for {raw_key}: expected a hash", param=raw_key)
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    # `metadata=` (empty) clears metadata in Stripe; anything nested under it replaces that.
                    if child != "":
                        raise invalid(f"Invalid value for {raw_key}: not a hash", param=raw_key)
                    child = node[name] = {}
                node = child
    return root


# --- typed parameters ----------------------------------------------------------------------------


class Params:
    """Typed access to decoded parameters; every accessor answers Stripe's 400 naming the `param`."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def _name(self, name: str) -> str:
        return f"{self.prefix}[{name}]" if self.prefix else name

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        known = {*allowed, "expand"}
        for name in self.data:
            if name not in known:
                raise invalid(
                    f"Received unknown parameter: {self._name(name)}",
                    param=self._name(name),
                    code="parameter_unknown",
                )

    def _scalar(self, name: str, required: bool) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise invalid(
                    f"Missing required param: {self._name(name)}.",
                    param=self._name(name),
                    code="parameter_missing",
                )
            return None
        if not isinstance(value, str):
            raise invalid(f"Invalid value for {self._name(name)}: expected a string", param=self._name(name))
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 5000) -> str | None:
        value = self._scalar(name, required)
        if value is not None and len(value) > max_length:
            raise invalid(
                f"Invalid {self._name(name)}: must be at most {max_length} characters",
                param=self._name(name),
            )
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._scalar(name, required)
        if value is None:
            return None
        if not re.fullmatch(r"-?\d{1,15}", value):
            raise invalid(
                f"Invalid integer: {value}", param=self._name(name), code="parameter_invalid_integer"
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.",
                param=self._name(name),
                code="parameter_invalid_integer",
            )
        if maximum is not None and number > maximum:
            raise invalid(
                f"This value must be less than or equal to {maximum}.",
                param=self._name(name),
                code="parameter_invalid_integer",
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._scalar(name, False)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=self._name(name))
        return value == "true"

    def choice(self, name: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        options = list(choices)
        value = self._scalar(name, required)
        if value is not None and value not in options:
            raise invalid(
                f"Invalid {self._name(name)}: must be one of {', '.join(options)}", param=self._name(name)
            )
        return value

    def nested(self, name: str) -> Params | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise invalid(f"Invalid {self._name(name)}: expected a hash", param=self._name(name))
        return Params(value, self._name(name))

    def strings(self, name: str) -> list[str]:
        """An array parameter, whichever way its items were numbered."""
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            raise invalid(f"Invalid array: {self._name(name)}", param=self._name(name))
        items = sorted(value.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else -1)
        if any(not key.isdigit() or not isinstance(item, str) for key, item in items):
            raise invalid(f"Invalid array: {self._name(name)}", param=self._name(name))
        return [item for _, item in items]

    def metadata(self) -> dict[str, str] | None:
        """Stripe's metadata rules: ≤50 keys of ≤40 chars, values ≤500 chars; an empty value unsets."""
        value = self.data.get("metadata")
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid("Invalid metadata: expected a hash", param="metadata")
        result: dict[str, str] = {}
        for key, item in value.items():
            param = f"metadata[{key}]"
            if not isinstance(item, str):
                raise invalid(f"Invalid value for {param}: metadata values must be strings", param=param)
            if len(key) > 40:
                raise invalid("Metadata keys must be at most 40 characters.", param=param)
            if len(item) > 500:
                raise invalid("Metadata values must be at most 500 characters.", param=param)
            if item != "":
                result[key] = item
        if len(result) > 50:
            raise invalid("Metadata can have at most 50 keys.", param="metadata")
        return result


def merge_metadata(current: dict[str, str], update: Params) -> dict[str, str]:
    """Updates merge into existing metadata; a key sent empty is removed, `metadata=` clears all."""
    raw = update.data.get("metadata")
    if raw is None:
        return current
    if raw == "":
        return {}
    merged = {**current, **(update.metadata() or {})}
    for key, item in raw.items():
        if item == "":
            merged.pop(key, None)
    return merged


# --- lists, search results, expansion ------------------------------------------------------------


def paginate(items: list[dict[str, Any]], params: Params, url: str, label: str) -> dict[str, Any]:
    """A Stripe list page of `items` (newest first) after limit, starting_after or ending_before."""
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    after, before = params.text("starting_after"), params.text("ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
    ids = [item["id"] for item in items]
    if after is not None:
        if after not in ids:
            raise missing(label, after, param="starting_after")
        start = ids.index(after) + 1
        page, has_more = items[start : start + limit], start + limit < len(items)
    elif before is not None:
        if before not in ids:
            raise missing(label, before, param="ending_before")
        end = ids.index(before)
        start = max(0, end - limit)
        page, has_more = items[start:end], start > 0
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def search_page(items: list[dict[str, Any]], params: Params, url: str) -> dict[str, Any]:
    """A Stripe search result page; `page`/`next_page` are opaque offsets."""
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    token = params.text("page")
    offset = 0
    if token is not None:
        match = re.fullmatch(r"page_(\d{1,9})", token)
        if match is None:
            raise invalid("Invalid page token.", param="page")
        offset = int(match.group(1))
    page = items[offset : offset + limit]
    has_more = offset + limit < len(items)
    return {
        "object": "search_result",
        "data": page,
        "has_more": has_more,
        "next_page": f"page_{offset + limit}" if has_more else None,
        "url": url,
    }


def expand(obj: dict[str, Any], paths: list[str], resolve: Callable[[str], dict[str, Any] | None]) -> None:
    """Replace ids by the objects they name, in place, for each dotted path (`latest_charge`,
    `data.payment_method`), as Stripe's `expand[]` does; lists are walked through `data`."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > 4:
            raise invalid(f"You cannot expand more than 4 levels of a property: {path}", param="expand")
        _expand_in(obj, parts, path, resolve)


def _expand_in(
    node: dict[str, Any], parts: list[str], path: str, resolve: Callable[[str], dict[str, Any] | None]
) -> None:
    head, rest = parts[0], parts[1:]
    if head not in node:
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    value = node[head]
    if isinstance(value, list):
        if not rest:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        for item in value:
            if isinstance(item, dict):
                _expand_in(item, rest, path, resolve)
        return
    if isinstance(value, str):
        found = resolve(value)
        if found is None:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        value = node[head] = copy.deepcopy(found)
    if rest and isinstance(value, dict):
        _expand_in(value, rest, path, resolve)
