"""Column-level encryption of personal data, and blind indexes to look encrypted values up.

A `Keyring` holds a service's data keys (AES-256-GCM, authenticated), newest first: the newest
encrypts, every listed key decrypts, and each ciphertext names the id of its key —
`enc1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>` — so a rotation needs no downtime: add a key,
re-encrypt (`mercato keys rotate`), drop the old key once nothing uses it. The keys live outside the
database: a key file under var/keys/ (embedded profile, made on first use, mode 0600) or the
environment / a mounted secret (scale-out).

A `BlindIndex` is a keyed HMAC-SHA256 (its own key) of a normalised value, stored next to the
ciphertext where a value must be found (an e-mail address at sign-in): equal inputs give equal
indexes, and without the key the index says nothing about the value.

The keys are bound to a service's database engines (`bind_keys`), so the SQLAlchemy types
`Encrypted` and `EncryptedJSON` encrypt on the way in and decrypt on the way out wherever the
service reads or writes, and a query can never silently use another service's keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, LargeBinary, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1"
_NONCE = 12
_ENCRYPTED_JSON_KEY = "$enc"  # an encrypted JSON value is stored as {"$enc": "<ciphertext>"}
_ENCRYPTED_BYTES = b"enc1:"


class Undecryptable(Exception):
    """A ciphertext that no key of the keyring opens: tampered with, truncated, or of an unknown key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A new keyring entry, `<key id>:<base64url 256-bit key>`."""
    return f"{secrets.token_hex(4)}:{_b64(AESGCM.generate_key(bit_length=256))}"


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """Entries separated by commas or new lines, newest first; `#` starts a comment."""
    keys = []
    for raw in text.replace(",", "\n").splitlines():
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        key_id, sep, material = entry.partition(":")
        key = _unb64(material) if sep else b""
        if not key_id.isalnum() or len(key) != 32:
            raise ValueError("a data key is `<alphanumeric id>:<base64url of 32 bytes>`")
        keys.append((key_id, key))
    if len({key_id for key_id, _ in keys}) != len(keys):
        raise ValueError("two data keys have the same id")
    return keys


def key_file(path: Path, *, create: bool) -> str:
    """The text of a key file, made (mode 0600, one new key) when missing and `create` says so."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(new_key() + "\n")
    return path.read_text()


class Keyring:
    """AES-256-GCM data keys, newest first. From a file, it re-reads the file when it changes (checked
    at most once a second) or when a ciphertext names a key it does not know: a running service picks up
    a key added by `mercato keys rotate` without a restart."""

    def __init__(self, keys: Iterable[tuple[str, bytes]], *, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._mtime = path.stat().st_mtime_ns if path else 0
        self._load(list(keys))

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> Keyring:
        return cls(parse_keys(key_file(path, create=create)), path=path)

    def _load(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        # One attribute, swapped whole: a reader never sees the ids of one file and the keys of another.
        self._state = ({key_id: AESGCM(key) for key_id, key in keys}, [key_id for key_id, _ in keys])

    def _reload(self, *, force: bool) -> None:
        if self._path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < 1.0:
            return
        with self._lock:
            self._checked = now
            try:
                mtime = self._path.stat().st_mtime_ns
                if mtime != self._mtime or force:
                    self._load(parse_keys(self._path.read_text()))
                    self._mtime = mtime
            except (OSError, ValueError):
                pass  # keep the keys we have; the file is being rewritten or was removed

    def reload(self) -> None:
        """Read the key file again now (after `mercato keys rotate` changed it)."""
        self._reload(force=True)

    @property
    def key_ids(self) -> list[str]:
        self._reload(force=False)
        return list(self._state[1])

    @property
    def primary(self) -> str:
        self._reload(force=False)
        return self._state[1][0]

    def encrypt(self, plaintext: bytes) -> str:
        self._reload(force=False)
        keys, order = self._state
        key_id = order[0]
        header = f"{PREFIX}:{key_id}:"
        nonce = os.urandom(_NONCE)
        sealed = keys[key_id].encrypt(nonce, plaintext, header.encode())
        return header + _b64(nonce + sealed)

    def decrypt(self, token: str) -> bytes:
        key_id = key_id_of(token)
        if key_id not in self._state[0]:
            self._reload(force=True)
        aead = self._state[0].get(key_id)
        if aead is None:
            raise Undecryptable(f"no key {key_id!r} in the keyring")
        blob = _unb64(token.rsplit(":", 1)[1])
        try:
            return aead.decrypt(blob[:_NONCE], blob[_NONCE:], f"{PREFIX}:{key_id}:".encode())
        except (InvalidTag, ValueError):
            raise Undecryptable("the ciphertext was altered or is not of this key") from None

    def is_current(self, token: str) -> bool:
        """True when `token` is under the newest key (nothing to re-encrypt)."""
        return key_id_of(token) == self.primary


def is_ciphertext(value: str) -> bool:
    parts = value.split(":")
    return len(parts) == 3 and parts[0] == PREFIX


def key_id_of(token: str) -> str:
    if not is_ciphertext(token):
        raise Undecryptable("not a ciphertext of this keyring")
    return token.split(":")[1]


class BlindIndex:
    """HMAC-SHA256 with its own key, of a value already normalised by the caller (hex, 64 chars).
    `purpose` separates indexes of different fields, so equal values in two fields don't match."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a blind index key needs at least 32 bytes")
        self._key = key

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> BlindIndex:
        return cls(parse_keys(key_file(path, create=create))[0][1])

    def of(self, value: str, *, purpose: str) -> str:
        return hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DataKeys:
    """What a service's database needs to protect personal data."""

    keyring: Keyring
    blind_index: BlindIndex | None = None


_ATTRIBUTE = "mercato_data_keys"


def bind_keys(engine: Any, keys: DataKeys | None) -> None:
    """Attach `keys` to an engine (async or sync): its `Encrypted` columns then use them."""
    sync = getattr(engine, "sync_engine", engine)
    setattr(sync.dialect, _ATTRIBUTE, keys)


def keys_of(bind: Any) -> DataKeys:
    """The keys bound to a dialect, or to the engine of a connection or session."""
    dialect = bind if isinstance(bind, Dialect) else None
    if dialect is None:
        getter = getattr(bind, "get_bind", None)
        dialect = (getter() if getter else bind).dialect
    keys = getattr(dialect, _ATTRIBUTE, None)
    if keys is None:
        raise RuntimeError("this database has no data keys bound: it cannot read or write personal data")
    return keys


def optional_keys(dialect: Dialect) -> DataKeys | None:
    return getattr(dialect, _ATTRIBUTE, None)


class Encrypted(TypeDecorator[str]):
    """A text column stored encrypted under the database's keyring. Equality queries on it cannot work
    (each encryption is different): look values up through a blind index column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keys_of(dialect).keyring.encrypt(value.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keys_of(dialect).keyring.decrypt(value).decode()


class EncryptedText(TypeDecorator[str]):
    """As `Encrypted`, for the kernel's tables that every service shares (an error message may quote an
    address): encrypted where the database has data keys, plain text otherwise; a value stored in clear
    before still reads, and `mercato keys rotate` encrypts it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        keys = optional_keys(dialect)
        if value is None or keys is None:
            return value
        return keys.keyring.encrypt(value.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not is_ciphertext(value):
            return value
        return keys_of(dialect).keyring.decrypt(value).decode()


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON column whose value is stored encrypted, as `{"$enc": "<ciphertext>"}`, when the database has
    a keyring (in plain JSON otherwise: services that hold no personal data). A plain value written before
    encryption was introduced still reads; `mercato keys rotate` and the migrations encrypt it."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keys = optional_keys(dialect)
        if value is None or keys is None:
            return value
        plaintext = json.dumps(value, separators=(",", ":"), default=str).encode()
        return {_ENCRYPTED_JSON_KEY: keys.keyring.encrypt(plaintext)}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and set(value) == {_ENCRYPTED_JSON_KEY}:
            return json.loads(keys_of(dialect).keyring.decrypt(value[_ENCRYPTED_JSON_KEY]))
        return value


class EncryptedBytes(TypeDecorator[bytes]):
    """As `EncryptedJSON`, for bytes (stored responses of idempotent requests): `enc1:` + ciphertext."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        keys = optional_keys(dialect)
        if value is None or keys is None:
            return value
        return keys.keyring.encrypt(bytes(value)).encode()

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None or not bytes(value).startswith(_ENCRYPTED_BYTES):
            return value
        return keys_of(dialect).keyring.decrypt(bytes(value).decode())


def stored_key_id(raw: Any) -> str | None:
    """The key id of a value as stored (raw, not through the column type); None when stored in clear."""
    if isinstance(raw, (bytes, memoryview)):
        raw = bytes(raw).decode(errors="replace")
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, dict):
        raw = raw.get(_ENCRYPTED_JSON_KEY) if set(raw) == {_ENCRYPTED_JSON_KEY} else None
    if isinstance(raw, str) and is_ciphertext(raw):
        return raw.split(":")[1]
    return None
