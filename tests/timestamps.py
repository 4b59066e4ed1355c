"""Every timestamp a service answers with is UTC with an offset (the `date-time` format of its OpenAPI
schema): a walk over a JSON body that finds its timestamps, so a test can assert them all at once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def timestamps(body: Any, path: str = "") -> dict[str, str]:
    """Every string in `body` that looks like a date-time, by its path (`data.0.created_at`)."""
    if isinstance(body, dict):
        return {k: v for key, value in body.items() for k, v in timestamps(value, f"{path}.{key}").items()}
    if isinstance(body, list):
        return {k: v for i, value in enumerate(body) for k, v in timestamps(value, f"{path}.{i}").items()}
    return {path.lstrip("."): body} if isinstance(body, str) and _TIMESTAMP.match(body) else {}


def assert_utc(body: Any, *fields: str) -> None:
    """`fields` (paths, as `timestamps` names them) are present and every timestamp in `body` is UTC
    with an explicit offset."""
    found = timestamps(body)
    assert set(fields) <= set(found), f"missing {set(fields) - set(found)} in {sorted(found)}"
    for path, value in found.items():
        offset = datetime.fromisoformat(value).utcoffset()
        assert offset == timedelta(0), f"{path} = {value!r} has no UTC offset"
