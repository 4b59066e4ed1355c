"""A gift card's code: 16 Crockford base32 characters (80 random bits), shown in four groups of four.

What a shopper types is normalised before anything else (`normalise`): upper case, no dashes or spaces,
and Crockford's look-alikes read as the digits they resemble (O → 0, I and L → 1). The code is stored
encrypted (it is the card: whoever knows it can spend it) and found by the SHA-256 of its normal form:
80 random bits cannot be searched for from the hash.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A new code in its normal form."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str | None:
    """The normal form of what was typed, or None when it cannot be a code at all."""
    code = typed.upper().replace("-", "").replace(" ", "").translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def shown(code: str) -> str:
    """`XXXX-XXXX-XXXX-XXXX`."""
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# Looked up when what was typed cannot be a code, so an answer takes as long either way.
UNUSABLE_HASH = code_hash("-" * LENGTH)
