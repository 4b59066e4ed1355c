"""The iOS Keychain through rubicon-objc (imported on iOS only). Generic passwords of this app's service,
readable after the first unlock, never synced to other devices."""

from __future__ import annotations

from ctypes import byref, c_void_p, cdll, string_at, util

from rubicon.objc import NSData, NSDictionary, NSMutableDictionary, ObjCInstance, objc_const

Security = cdll.LoadLibrary(util.find_library("Security"))
Security.SecItemAdd.argtypes = [c_void_p, c_void_p]
Security.SecItemUpdate.argtypes = [c_void_p, c_void_p]
Security.SecItemDelete.argtypes = [c_void_p]
Security.SecItemCopyMatching.argtypes = [c_void_p, c_void_p]
for fn in (Security.SecItemAdd, Security.SecItemUpdate, Security.SecItemDelete, Security.SecItemCopyMatching):
    fn.restype = int

kSecClass = objc_const(Security, "kSecClass")
kSecClassGenericPassword = objc_const(Security, "kSecClassGenericPassword")
kSecAttrService = objc_const(Security, "kSecAttrService")
kSecAttrAccount = objc_const(Security, "kSecAttrAccount")
kSecAttrAccessible = objc_const(Security, "kSecAttrAccessible")
kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly = objc_const(
    Security, "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly"
)
kSecValueData = objc_const(Security, "kSecValueData")
kSecReturnData = objc_const(Security, "kSecReturnData")
kSecMatchLimit = objc_const(Security, "kSecMatchLimit")
kSecMatchLimitOne = objc_const(Security, "kSecMatchLimitOne")
errSecSuccess, errSecItemNotFound = 0, -25300


class KeychainStore:
    def __init__(self, service: str):
        self.service = service

    def _query(self, name: str) -> NSMutableDictionary:
        query = NSMutableDictionary.dictionary()
        query[kSecClass] = kSecClassGenericPassword
        query[kSecAttrService] = self.service
        query[kSecAttrAccount] = name
        return query

    def get(self, name: str) -> str | None:
        query = self._query(name)
        query[kSecReturnData] = True
        query[kSecMatchLimit] = kSecMatchLimitOne
        result = c_void_p()
        if Security.SecItemCopyMatching(query.ptr, byref(result)) != errSecSuccess:
            return None
        data = ObjCInstance(result)
        return string_at(data.bytes, data.length).decode()

    def set(self, name: str, value: str) -> None:
        data = NSData.dataWithBytes(value.encode(), length=len(value.encode()))
        status = Security.SecItemUpdate(
            self._query(name).ptr, NSDictionary.dictionaryWithObject(data, forKey=kSecValueData).ptr
        )
        if status == errSecItemNotFound:
            query = self._query(name)
            query[kSecValueData] = data
            query[kSecAttrAccessible] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            status = Security.SecItemAdd(query.ptr, None)
        if status != errSecSuccess:
            raise OSError(f"Keychain error {status}")

    def delete(self, name: str) -> None:
        Security.SecItemDelete(self._query(name).ptr)
