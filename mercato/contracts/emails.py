"""E-mail addresses: the one form they are stored, looked up and compared in, and the one input type
that accepts them (docs/accounts.md#e-mail-addresses).

`normalise_email` is the only normalisation: registration, shopper and staff sign-in, support look-ups,
password resets and any index built over addresses (a blind index) all go through it, so the same
address typed two ways is the same key. It is total — it never raises — so a sign-in with something
that is not an address simply matches nobody.

    local part   Unicode NFC, then lower-cased (str.lower, not casefold: "ß" stays "ß"). Mailboxes are
                 case-insensitive at every provider we know of, and addresses were always compared
                 lower-cased here. Dots and "+tags" are kept: they are different mailboxes in general.
    domain       IDNA 2008 / UTS #46 (non-transitional) mapping, shown in Unicode: case-folded, NFC,
                 full-width dots and letters mapped, "xn--" labels decoded ("xn--bcher-kva.de" and
                 "BÜCHER.de" are both "bücher.de").

`EmailAddress` (for request bodies that create an account) also refuses what could impersonate another
address: a local part or domain label that mixes scripts (a Cyrillic "a", U+0430, among Latin letters), and
compatibility characters (full-width or mathematical letters, ligatures) in the local part.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

import idna
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_LENGTH = 320

# UTS #39 "highly restrictive": one script, or Latin with the scripts that are written together with Han.
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def _domain(domain: str) -> str:
    try:
        return idna.decode(idna.encode(domain, uts46=True, transitional=False))
    except (idna.IDNAError, UnicodeError):
        return unicodedata.normalize("NFC", domain.casefold())


def normalise_email(address: str) -> str:
    """The canonical form of an e-mail address (see the module's docstring). Idempotent and total."""
    address = unicodedata.normalize("NFC", address.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        return unicodedata.normalize("NFC", address.lower())
    return unicodedata.normalize("NFC", local.lower()) + "@" + _domain(domain)


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in `text` (digits, punctuation and marks belong to any script)."""
    scripts = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            first = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_ALIASES.get(first, first))
    return scripts


def _mixes_scripts(text: str) -> bool:
    scripts = _scripts(text)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED_MIXES)


def confusable_problem(address: str) -> str | None:
    """Why an address could pass for another one, or None."""
    local, _, domain = normalise_email(address).rpartition("@")
    if unicodedata.normalize("NFKC", local) != local:
        return "must not contain full-width, stylised or other compatibility characters"
    if _mixes_scripts(local) or any(_mixes_scripts(label) for label in domain.split(".")):
        return "must not mix letters of different scripts (e.g. Latin and Cyrillic)"
    return None


def _valid_email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        reason = {"reason": str(error)}
        raise PydanticCustomError("email", "is not a valid e-mail address: {reason}", reason) from None
    if problem := confusable_problem(value):
        raise PydanticCustomError("email_confusable", problem)
    return normalise_email(value)


EmailAddress = Annotated[
    str,
    Field(max_length=MAX_LENGTH, json_schema_extra={"format": "email"}),
    AfterValidator(_valid_email),
]
"""A new account's address: valid, not confusable, and normalised (`normalise_email`)."""
