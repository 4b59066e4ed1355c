"""The base of every PATCH body: a partial update where an omitted field stays as it is.

`null` is refused (422, "may not be null") on every field but those a subclass lists in `nullable`,
where null means something ("no phone", "no parent category"). Without this, a `{"name": null}` from a
typo'd client reaches the database as NULL in a NOT NULL column — a 500 — or silently does nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator

from mercato.contracts.inputs import Input


class Patch(Input):
    """Strict and closed like every request body (mercato.contracts.inputs), and null-refusing."""

    nullable: ClassVar[frozenset[str]] = frozenset()  # fields where null means something (e.g. "clear it")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value
