"""Android: EncryptedSharedPreferences (androidx.security:security-crypto), its master key in the Android
Keystore, through Chaquopy's java bridge (imported on Android only)."""

from __future__ import annotations

from java import jclass

MasterKey = jclass("androidx.security.crypto.MasterKey")
MasterKeyBuilder = jclass("androidx.security.crypto.MasterKey$Builder")
EncryptedSharedPreferences = jclass("androidx.security.crypto.EncryptedSharedPreferences")
KeyScheme = jclass("androidx.security.crypto.EncryptedSharedPreferences$PrefKeyEncryptionScheme")
ValueScheme = jclass("androidx.security.crypto.EncryptedSharedPreferences$PrefValueEncryptionScheme")
Python = jclass("com.chaquo.python.Python")


class KeystoreStore:
    def __init__(self, service: str):
        context = Python.getPlatform().getApplication()
        master = MasterKeyBuilder(context).setKeyScheme(MasterKey.KeyScheme.AES256_GCM).build()
        self.prefs = EncryptedSharedPreferences.create(
            context, f"{service}.secrets", master, KeyScheme.AES256_SIV, ValueScheme.AES256_GCM
        )

    def get(self, name: str) -> str | None:
        return self.prefs.getString(name, None)

    def set(self, name: str, value: str) -> None:
        self.prefs.edit().putString(name, value).commit()

    def delete(self, name: str) -> None:
        self.prefs.edit().remove(name).commit()
