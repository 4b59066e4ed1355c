"""Where the shopper's tokens are kept: one small interface, three homes.

- iOS: the Keychain (kSecClassGenericPassword, this device only), through rubicon-objc;
- Android: EncryptedSharedPreferences, whose key lives in the Android Keystore, through Chaquopy;
- desktop (the GTK/macOS runs and the tests): a JSON file readable by its owner only (0600).

The device implementations are imported only on the device (secure_store picks one by sys.platform)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Protocol

SERVICE = "org.mercato.shop"


class SecureStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class FileStore:
    """A 0600 file: created with that mode (never world-readable, not even for an instant)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self, values: dict[str, str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(values, out)
        os.chmod(tmp, 0o600)  # an existing tmp file keeps its mode otherwise
        os.replace(tmp, self.path)

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        self._save(self._load() | {name: value})

    def delete(self, name: str) -> None:
        values = self._load()
        if values.pop(name, None) is not None:
            self._save(values)


def secure_store(data_dir: Path) -> SecureStore:
    if sys.platform == "ios":
        from shop.storage_ios import KeychainStore

        return KeychainStore(SERVICE)
    if hasattr(sys, "getandroidapilevel"):
        from shop.storage_android import KeystoreStore

        return KeystoreStore(SERVICE)
    return FileStore(Path(data_dir) / "secrets.json")
