"""Apple Pay's sheet on iOS: PassKit through rubicon-objc. Imported only on an iPhone (IOSDevice); it can't
run on this machine — the request it builds (wallets.apple_pay_request) and the path from its payment to an
order (wallets.apple_pay_payment → Gateway.tokenise_wallet → checkout) are tested here.

PKPaymentRequest (merchant id, country, currency, networks, 3-D Secure, the total) →
PKPaymentAuthorizationController presented → its delegate's
paymentAuthorizationController:didAuthorizePayment:handler: hands over the PKPayment; the app sends its
token's paymentData to the provider, pays, and only then calls the handler with success or failure
(WalletPayment.done), so the sheet shows the real outcome. paymentAuthorizationControllerDidFinish:
dismisses the sheet (and, when nothing was authorised, means the shopper cancelled).

Needs the Apple Pay capability with the merchant id (mobile/pyproject.toml's
com.apple.developer.in-app-payments entitlement, and the merchant id's payment processing certificate
made at the provider): docs/mobile.md, "Paying with a wallet"."""

from __future__ import annotations

import asyncio
from ctypes import string_at

from rubicon.objc import Block, NSObject, ObjCBlock, ObjCClass, ObjCProtocol, ns_from_py, objc_method
from rubicon.objc.runtime import load_library, objc_id

from shop.wallets import (
    APPLE_NETWORKS,
    WalletCancelled,
    WalletPayment,
    WalletUnavailable,
    apple_pay_payment,
    apple_pay_request,
)

load_library("PassKit")
PKPaymentRequest = ObjCClass("PKPaymentRequest")
PKPaymentSummaryItem = ObjCClass("PKPaymentSummaryItem")
PKPaymentAuthorizationController = ObjCClass("PKPaymentAuthorizationController")
PKPaymentAuthorizationResult = ObjCClass("PKPaymentAuthorizationResult")
NSDecimalNumber = ObjCClass("NSDecimalNumber")
STATUS_SUCCESS, STATUS_FAILURE = 0, 1  # PKPaymentAuthorizationStatus

_sessions: dict[int, _Session] = {}  # by the delegate's pointer: Python state the ObjC object can't hold


class _Session:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.authorized: asyncio.Future[WalletPayment] = loop.create_future()
        self.controller = None

    def settle(self, value: WalletPayment | None = None, error: Exception | None = None) -> None:
        if self.authorized.done():
            return
        if error is not None:
            self.authorized.set_exception(error)
        else:
            self.authorized.set_result(value)


class MercatoPaymentDelegate(NSObject, protocols=[ObjCProtocol("PKPaymentAuthorizationControllerDelegate")]):
    @objc_method
    def paymentAuthorizationController_didAuthorizePayment_handler_(
        self, controller, payment, handler
    ) -> None:
        session = _sessions.get(self.ptr.value)
        answer = ObjCBlock(handler, None, objc_id)
        if session is None:
            answer(PKPaymentAuthorizationResult.alloc().initWithStatus(STATUS_FAILURE, errors=None))
            return
        token = payment.token
        data = token.paymentData

        def finish(ok: bool) -> None:
            status = STATUS_SUCCESS if ok else STATUS_FAILURE
            answer(PKPaymentAuthorizationResult.alloc().initWithStatus(status, errors=None))

        method = token.paymentMethod
        session.settle(
            apple_pay_payment(
                string_at(data.bytes, data.length),
                network=str(method.network) if method.network else None,
                instrument_name=str(method.displayName) if method.displayName else None,
                transaction_id=str(token.transactionIdentifier) if token.transactionIdentifier else None,
                finish=finish,
            )
        )

    @objc_method
    def paymentAuthorizationControllerDidFinish_(self, controller) -> None:
        controller.dismissWithCompletion(None)
        session = _sessions.pop(self.ptr.value, None)
        if session is not None:
            session.settle(error=WalletCancelled())  # nothing authorised before the sheet closed


def can_pay() -> bool:
    """Apple Pay is set up on this iPhone with a card of a network the shop takes."""
    return bool(
        PKPaymentAuthorizationController.canMakePaymentsUsingNetworks(ns_from_py(list(APPLE_NETWORKS)))
    )


async def present(total: dict, *, merchant_id: str, country: str, merchant_name: str) -> WalletPayment:
    """Show the sheet for `total`; the authorised payment (its `done(ok)` closes the sheet)."""
    fields = apple_pay_request(total, merchant_id=merchant_id, country=country, merchant_name=merchant_name)
    request = PKPaymentRequest.alloc().init()
    request.merchantIdentifier = fields["merchantIdentifier"]
    request.countryCode = fields["countryCode"]
    request.currencyCode = fields["currencyCode"]
    request.supportedNetworks = ns_from_py(fields["supportedNetworks"])
    request.merchantCapabilities = fields["merchantCapabilities"]
    request.paymentSummaryItems = ns_from_py(
        [
            PKPaymentSummaryItem.summaryItemWithLabel(
                item["label"], amount=NSDecimalNumber.decimalNumberWithString(item["amount"])
            )
            for item in fields["paymentSummaryItems"]
        ]
    )
    session = _Session(asyncio.get_running_loop())
    delegate = MercatoPaymentDelegate.alloc().init()
    _sessions[delegate.ptr.value] = session
    controller = PKPaymentAuthorizationController.alloc().initWithPaymentRequest(request)
    controller.delegate = delegate
    session.controller = (controller, delegate)  # kept alive while the sheet is up

    def presented(shown: bool) -> None:
        if not shown:
            _sessions.pop(delegate.ptr.value, None)
            session.settle(error=WalletUnavailable("Apple Pay couldn't be opened. Please use a card."))

    controller.presentWithCompletion(Block(presented, None, bool))
    return await session.authorized
