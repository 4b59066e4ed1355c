"""Google Pay's sheet on Android: com.google.android.gms.wallet through Chaquopy's Java bridge. Imported
only on an Android phone (AndroidDevice); it can't run on this machine — the request JSON it sends
(wallets.google_pay_request, checked against Google's documented shape) and the path from its answer to
an order (wallets.google_pay_payment → Gateway.tokenise_wallet → checkout) are tested here.

Wallet.getPaymentsClient(activity, WalletOptions ENVIRONMENT_TEST | _PRODUCTION) → isReadyToPay (is
there a card to pay with) → loadPaymentData(PaymentDataRequest.fromJson(…)) resolved with
AutoResolveHelper into an activity result. Toga's Android app (toga_android.app.TogaApp) receives
MainActivity's onActivityResult and calls the callback registered under the request code in its
`running_intents` — the same mechanism Toga's own `App._impl.start_activity` uses — so the result comes
back here without touching the Briefcase template's MainActivity.

Needs `com.google.android.gms:play-services-wallet` (mobile/pyproject.toml's Gradle dependencies) and the
`com.google.android.gms.wallet.api.enabled` meta-data in the manifest (also there); PRODUCTION needs the
merchant id from the Google Pay & Wallet console: docs/mobile.md, "Paying with a wallet"."""

from __future__ import annotations

import asyncio
import json

import toga
from java import dynamic_proxy, jclass

from shop.wallets import (
    GOOGLE_ENVIRONMENTS,
    WalletCancelled,
    WalletPayment,
    WalletUnavailable,
    google_is_ready_request,
    google_pay_payment,
)

Wallet = jclass("com.google.android.gms.wallet.Wallet")
WalletOptions = jclass("com.google.android.gms.wallet.Wallet$WalletOptions")
IsReadyToPayRequest = jclass("com.google.android.gms.wallet.IsReadyToPayRequest")
PaymentDataRequest = jclass("com.google.android.gms.wallet.PaymentDataRequest")
PaymentData = jclass("com.google.android.gms.wallet.PaymentData")
AutoResolveHelper = jclass("com.google.android.gms.wallet.AutoResolveHelper")
OnCompleteListener = jclass("com.google.android.gms.tasks.OnCompleteListener")
MainActivity = jclass("org.beeware.android.MainActivity")
RESULT_OK, RESULT_CANCELED = -1, 0  # android.app.Activity
RESULT_ERROR = 1  # AutoResolveHelper.RESULT_ERROR


class _Completed(dynamic_proxy(OnCompleteListener)):
    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future):
        super().__init__()
        self.loop, self.future = loop, future

    def onComplete(self, task) -> None:  # Java's name
        ready = bool(task.isSuccessful() and task.getResult())
        self.loop.call_soon_threadsafe(lambda: self.future.done() or self.future.set_result(ready))


def _client(environment: str):
    options = WalletOptions.Builder().setEnvironment(GOOGLE_ENVIRONMENTS[environment]).build()
    return Wallet.getPaymentsClient(MainActivity.singletonThis, options)


async def is_ready(environment: str) -> bool:
    """Google Pay can pay here (the Play services wallet is present and the shopper can add a card)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    request = IsReadyToPayRequest.fromJson(json.dumps(google_is_ready_request()))
    _client(environment).isReadyToPay(request).addOnCompleteListener(_Completed(loop, future))
    return await future


async def load_payment_data(request: dict, environment: str) -> WalletPayment:
    """Show the sheet for a PaymentDataRequest (wallets.google_pay_request); Google's token for the
    provider."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[WalletPayment] = loop.create_future()

    def on_result(result_code: int, data) -> None:
        if answer.done():
            return
        if result_code == RESULT_OK and data is not None:
            try:
                answer.set_result(google_pay_payment(str(PaymentData.getFromIntent(data).toJson())))
            except (ValueError, KeyError) as error:
                answer.set_exception(WalletUnavailable(f"Google Pay's answer could not be read: {error}"))
        elif result_code == RESULT_CANCELED:
            answer.set_exception(WalletCancelled())
        else:
            status = AutoResolveHelper.getStatusFromIntent(data) if data is not None else None
            detail = str(status.getStatusMessage() or "") if status is not None else ""
            answer.set_exception(WalletUnavailable(f"Google Pay couldn't take the payment. {detail}".strip()))

    listener = toga.App.app._impl._listener  # toga_android.app.TogaApp: MainActivity's activity results
    listener.last_requestcode += 1
    code = listener.last_requestcode
    listener.running_intents[code] = lambda result_code, data: loop.call_soon_threadsafe(
        on_result, result_code, data
    )
    task = _client(environment).loadPaymentData(PaymentDataRequest.fromJson(json.dumps(request)))
    AutoResolveHelper.resolveTask(task, MainActivity.singletonThis, code)
    return await answer
