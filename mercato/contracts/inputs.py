"""What every service's request bodies are built from (public, back office and private alike), so that
input is refused at the API edge, with a 422 and a message per field, rather than coerced or stored.

`Input` is the base of every JSON request body: unknown fields are refused, and types are strict —
`"3"` and `true` are not integers, `0` and `"yes"` are not booleans, `3.0` is not an integer. (Query
parameters are not bodies: they arrive as text and keep FastAPI's ordinary conversion.)

`SingleLine` (the `SINGLE_LINE` marker) is text that is one line: no control characters (C0 and C1:
NUL, CR, LF, tab, ESC…) and no Unicode line or paragraph separators — for names, address lines, keys and
the like. `Text` (`TEXT`) is free text that may span lines (tab, LF and CR allowed) but holds no other
control character, for descriptions, notes and reasons. A NUL is
refused everywhere: PostgreSQL cannot store it in text at all.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


class Input(BaseModel):
    """The base of every request body: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Refuse:
    """A string constraint: refuses `characters` (a regex character class) with `message`, and says so
    in the JSON schema (a `pattern`, unless the field has a stricter pattern of its own)."""

    def __init__(self, characters: str, kind: str, message: str) -> None:
        self.found = re.compile(f"[{characters}]")
        self.pattern = f"^[^{characters}]*$"
        self.kind, self.message = kind, message

    def _check(self, value: str) -> str:
        if self.found.search(value):
            raise PydanticCustomError(self.kind, self.message)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


SINGLE_LINE = _Refuse(
    r"\x00-\x1f\x7f-\x9f\u2028\u2029",
    "single_line",
    "must be a single line of text, without control characters",
)
TEXT = _Refuse(
    r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f",
    "text_control_character",
    "must be text without control characters (line breaks and tabs are fine)",
)

SingleLine = Annotated[str, SINGLE_LINE]
"""One line of text. With lengths or stripping, put the marker last, so it checks what is kept:
`Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SINGLE_LINE]`."""

Text = Annotated[str, TEXT]
"""Text that may span lines."""
