"""Opaque, type-prefixed, time-ordered ids (`cus_01JD…`), in the style of Stripe and ULID.

Time-ordered ids make keyset pagination by id return newest-last without a separate sort column,
and the prefix tells a human (and a validator) what kind of object an id names.
"""

from __future__ import annotations

import os
import re
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, index = divmod(value, 32)
        chars.append(_CROCKFORD[index])
    return "".join(reversed(chars))


def new_id(prefix: str, *, at_ms: int | None = None, entropy: bytes | None = None) -> str:
    """`prefix_` + 26 Crockford base32 chars: 48 bits of milliseconds, 80 random bits.

    `at_ms` and `entropy` make ids deterministic (the demo seed uses them)."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    random_bits = int.from_bytes(entropy if entropy is not None else os.urandom(10), "big")
    return f"{prefix}_{_encode(ms, 10)}{_encode(random_bits, 16)}"


def is_id(value: str, prefix: str) -> bool:
    head, _, body = value.partition("_")
    return head == prefix and bool(_ID_BODY.match(body))
