"""What only a phone has: a push token, a wallet. One small interface; on the desktop, neither.

iOS: the APNs device token arrives at the app delegate's
`application:didRegisterForRemoteNotificationsWithDeviceToken:`; Toga's PythonAppDelegate has no such
method, so IOSDevice adds one (rubicon-objc) that keeps the token, as hex, in NSUserDefaults.
Android: the FCM registration token from FirebaseMessaging (firebase-messaging is in the Gradle
dependencies; the Firebase project's google-services.json goes into the Gradle project when building).
Neither can run on this machine: they are exercised on a device (docs/mobile.md)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from shop.errors import ApiError

APNS_TOKEN_KEY = "MercatoAPNsDeviceToken"  # noqa: S105 - a defaults key, not a secret


class WalletUnavailable(ApiError):
    def __init__(self, detail: str):
        super().__init__(400, "Wallet unavailable", detail)


@dataclass
class Device:
    platform: str | None = None  # "ios" | "android" | None on the desktop

    async def push_token(self) -> str | None:
        return None

    wallet: str | None = None  # "apple_pay" | "google_pay" where the wallet sheet is wired

    async def wallet_payment(self, payment: dict, total: dict) -> WalletPayment:
        """Show the wallet sheet for `total`; what the wallet hands back (never a card number)."""
        raise WalletUnavailable("Paying with the wallet isn't available on this device. Please use a card.")


@dataclass
class WalletPayment:
    """Apple Pay: the PKPayment's payment data (base64) and its network, for the provider's /v1/tokens.
    Google Pay: the token JSON Google's servers made at the provider (tokenizationData.token)."""

    wallet: str
    payment_data: str | None = None
    network: str | None = None
    token_json: str | None = None


class IOSDevice(Device):
    hooked = False

    @classmethod
    def hook_delegate(cls) -> None:
        from ctypes import string_at

        from rubicon.objc import ObjCClass, ObjCInstance
        from rubicon.objc.runtime import SEL, add_method, objc_id

        def registered(self, cmd, application, token) -> None:
            data = ObjCInstance(token)
            value = string_at(data.bytes, data.length).hex()
            ObjCClass("NSUserDefaults").standardUserDefaults.setObject(value, forKey=APNS_TOKEN_KEY)

        selector = "application:didRegisterForRemoteNotificationsWithDeviceToken:"
        add_method(
            ObjCClass("PythonAppDelegate"), selector, registered, [None, objc_id, SEL, objc_id, objc_id]
        )
        cls.hooked = True

    async def push_token(self) -> str | None:
        from rubicon.objc import Block, ObjCClass, ObjCInstance

        if not IOSDevice.hooked:
            IOSDevice.hook_delegate()
        # Alerts, sounds and badges need the shopper's yes (asked once by iOS); the token does not.
        center = ObjCClass("UNUserNotificationCenter").currentNotificationCenter()
        center.requestAuthorizationWithOptions(
            7, completionHandler=Block(lambda granted, error: None, None, bool, ObjCInstance)
        )
        ObjCClass("UIApplication").sharedApplication.registerForRemoteNotifications()
        for _ in range(20):  # iOS answers asynchronously, usually within a second
            token = ObjCClass("NSUserDefaults").standardUserDefaults.stringForKey(APNS_TOKEN_KEY)
            if token:
                return str(token)
            await asyncio.sleep(0.25)
        return None


class AndroidDevice(Device):
    async def push_token(self) -> str | None:
        from java import jclass

        # Android 13+ shows notifications only after the shopper allows them (POST_NOTIFICATIONS).
        if jclass("android.os.Build$VERSION").SDK_INT >= 33:
            activity = jclass("org.beeware.android.MainActivity").singletonThis
            activity.requestPermissions(["android.permission.POST_NOTIFICATIONS"], 1)

        def blocking() -> str | None:  # Tasks.await blocks: off the UI thread
            task = jclass("com.google.firebase.messaging.FirebaseMessaging").getInstance().getToken()
            token = jclass("com.google.android.gms.tasks.Tasks").await_(task)
            return str(token) if token else None

        return await asyncio.get_running_loop().run_in_executor(None, blocking)


def this_device() -> Device:
    if sys.platform == "ios":
        return IOSDevice("ios")
    if hasattr(sys, "getandroidapilevel"):
        return AndroidDevice("android")
    return Device()
