"""What only a phone has: a push token, a wallet, its own way to open a link or a document. One small
interface; on the desktop, no push or wallet, and links and documents go to the system browser.

iOS: the APNs device token arrives at the app delegate's
`application:didRegisterForRemoteNotificationsWithDeviceToken:`; Toga's PythonAppDelegate has no such
method, so IOSDevice adds one (rubicon-objc) that keeps the token, as hex, in NSUserDefaults.
Android: the FCM registration token from FirebaseMessaging (firebase-messaging is in the Gradle
dependencies; the Firebase project's google-services.json goes into the Gradle project when building).
Wallets: Apple Pay's sheet (wallet_ios.py, PassKit) and Google Pay's (wallet_android.py, Play services),
imported only on their device; what they ask for and hand back is plain logic in wallets.py.
Documents (a PDF invoice, fetched by the app with the shopper's token): iOS offers the share sheet
(UIActivityViewController: Quick Look, Save to Files, Print); Android saves to Downloads through
MediaStore and opens the PDF viewer with ACTION_VIEW.
None of this device code can run on this machine: it is exercised on a device (docs/mobile.md)."""

from __future__ import annotations

import asyncio
import sys
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from shop import config
from shop.wallets import WalletPayment, WalletUnavailable, google_pay_request

__all__ = ["Device", "WalletPayment", "WalletUnavailable", "this_device"]

APNS_TOKEN_KEY = "MercatoAPNsDeviceToken"  # noqa: S105 - a defaults key, not a secret


@dataclass
class Device:
    platform: str | None = None  # "ios" | "android" | None on the desktop

    async def push_token(self) -> str | None:
        return None

    wallet: str | None = None  # "apple_pay" | "google_pay": the wallet sheet this device has

    async def wallet_ready(self, payment: dict) -> bool:
        """Can the sheet be shown now (a card in the wallet)? Asked when the checkout screen loads."""
        return self.wallet is not None

    async def wallet_payment(self, payment: dict, total: dict, country: str) -> WalletPayment:
        """Show the wallet sheet for `total`; what the wallet hands back (never a card number)."""
        raise WalletUnavailable()

    async def open_url(self, url: str) -> None:
        """A link in the system browser."""
        webbrowser.open(url)

    async def open_document(self, path: Path) -> None:
        """A downloaded document (a PDF invoice) in the system's viewer."""
        webbrowser.open(path.as_uri())


class IOSDevice(Device):
    hooked = False

    async def open_url(self, url: str) -> None:
        from rubicon.objc import ObjCClass

        link = ObjCClass("NSURL").URLWithString(url)
        ObjCClass("UIApplication").sharedApplication.openURL(link, options={}, completionHandler=None)

    async def open_document(self, path: Path) -> None:
        """The share sheet for the file: Quick Look, Save to Files, Print, Books…"""
        from rubicon.objc import ObjCClass

        file_url = ObjCClass("NSURL").fileURLWithPath(str(path))
        sheet = (
            ObjCClass("UIActivityViewController")
            .alloc()
            .initWithActivityItems([file_url], applicationActivities=None)
        )
        root = ObjCClass("UIApplication").sharedApplication.keyWindow.rootViewController
        root.presentViewController(sheet, animated=True, completion=None)

    async def wallet_ready(self, payment: dict) -> bool:
        from shop import wallet_ios

        return wallet_ios.can_pay()

    async def wallet_payment(self, payment: dict, total: dict, country: str) -> WalletPayment:
        from shop import wallet_ios

        return await wallet_ios.present(
            total, merchant_id=config.APPLE_MERCHANT_ID, country=country, merchant_name=config.MERCHANT_NAME
        )

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
    async def open_url(self, url: str) -> None:
        from java import jclass

        intent = jclass("android.content.Intent")(
            jclass("android.content.Intent").ACTION_VIEW, jclass("android.net.Uri").parse(url)
        )
        jclass("org.beeware.android.MainActivity").singletonThis.startActivity(intent)

    async def open_document(self, path: Path) -> None:
        """Saved to Downloads (MediaStore, Android 10+: no storage permission), then opened by the PDF
        viewer the shopper has."""
        from java import jclass

        activity = jclass("org.beeware.android.MainActivity").singletonThis
        resolver = activity.getContentResolver()
        values = jclass("android.content.ContentValues")()
        columns = jclass("android.provider.MediaStore$MediaColumns")
        values.put(columns.DISPLAY_NAME, path.name)
        values.put(columns.MIME_TYPE, "application/pdf")
        uri = resolver.insert(jclass("android.provider.MediaStore$Downloads").EXTERNAL_CONTENT_URI, values)
        data = await asyncio.to_thread(path.read_bytes)
        stream = resolver.openOutputStream(uri)
        stream.write(data)
        stream.close()
        intent_class = jclass("android.content.Intent")
        intent = intent_class(intent_class.ACTION_VIEW)
        intent.setDataAndType(uri, "application/pdf")
        intent.addFlags(intent_class.FLAG_GRANT_READ_URI_PERMISSION)
        activity.startActivity(intent)

    async def wallet_ready(self, payment: dict) -> bool:
        from shop import wallet_android

        return await wallet_android.is_ready(config.GOOGLE_PAY_ENVIRONMENT)

    async def wallet_payment(self, payment: dict, total: dict, country: str) -> WalletPayment:
        from shop import wallet_android

        request = google_pay_request(
            payment,
            total,
            country=country,
            merchant_name=config.MERCHANT_NAME,
            merchant_id=config.GOOGLE_PAY_MERCHANT_ID,
            environment=config.GOOGLE_PAY_ENVIRONMENT,
        )
        return await wallet_android.load_payment_data(request, config.GOOGLE_PAY_ENVIRONMENT)

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
        return IOSDevice("ios", "apple_pay")
    if hasattr(sys, "getandroidapilevel"):
        return AndroidDevice("android", "google_pay")
    return Device()
