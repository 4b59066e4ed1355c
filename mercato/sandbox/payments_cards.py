"""Card numbers: validation, brand detection, and the behaviour of Stripe's documented test cards.

The sandbox never stores a card number. Tokenising a card keeps only what Stripe shows afterwards
(brand, last4, expiry, fingerprint) plus the name of the behaviour the test number selects, which is
all a later confirmation needs. Like Stripe in test mode, it refuses numbers that are not test cards,
so a real card typed into a development checkout is declined rather than processed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from mercato.sandbox.payments_wire import StripeError

SUCCEED = "succeed"
DISPUTE = "dispute"  # succeeds, then the cardholder disputes the captured payment
LIVE_CARD = "test_mode_live_card"  # a valid number that is not a test card


@dataclass(frozen=True)
class Decline:
    """What a declining test card answers at confirmation, as Stripe's testing docs list it."""

    code: str
    decline_code: str
    message: str
    param: str | None = None


DECLINES: dict[str, Decline] = {
    "generic_decline": Decline("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "lost_card": Decline("card_declined", "lost_card", "Your card was declined."),
    "stolen_card": Decline("card_declined", "stolen_card", "Your card was declined."),
    "expired_card": Decline("expired_card", "expired_card", "Your card has expired.", "exp_month"),
    "incorrect_cvc": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
    ),
    "processing_error": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    LIVE_CARD: Decline(
        "card_declined",
        LIVE_CARD,
        "Your card was declined. Your request was in test mode, but used a non test (live) card.",
    ),
}

# Stripe's documented test numbers and what each does when a payment is confirmed.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": SUCCEED,
    "4000056655665556": SUCCEED,  # Visa debit
    "5555555555554444": SUCCEED,
    "2223003122003222": SUCCEED,
    "5200828282828210": SUCCEED,  # Mastercard debit
    "5105105105105100": SUCCEED,  # Mastercard prepaid
    "378282246310005": SUCCEED,
    "371449635398431": SUCCEED,
    "6011111111111117": SUCCEED,
    "6011000990139424": SUCCEED,
    "3056930009020004": SUCCEED,
    "36227206271667": SUCCEED,
    "3566002020360505": SUCCEED,
    "6200000000000005": SUCCEED,
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
    "4000000000000259": DISPUTE,
}
FUNDING = {"4000056655665556": "debit", "5200828282828210": "debit", "5105105105105100": "prepaid"}

# Stripe's test PaymentMethod ids, usable server-side without tokenising a card first.
MAGIC_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_createDispute": "4000000000000259",
}

_BRANDS: list[tuple[str, str]] = [
    (r"4", "visa"),
    (r"5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)", "mastercard"),
    (r"3[47]", "amex"),
    (r"6011|65|64[4-9]", "discover"),
    (r"35", "jcb"),
    (r"3[068]", "diners"),
    (r"62", "unionpay"),
]


@dataclass(frozen=True)
class Card:
    """What remains of a card after tokenisation."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str
    funding: str
    country: str
    behaviour: str
    cvc_provided: bool


def card_error(code: str, message: str, param: str) -> StripeError:
    return StripeError(402, "card_error", message, code=code, param=param)


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    for pattern, brand in _BRANDS:
        if re.match(pattern, number):
            return brand
    return "unknown"


def tokenise(
    number: str, exp_month: int, exp_year: int, cvc: str | None, salt: str, today: dt.date | None = None
) -> Card:
    """Validate a card as Stripe does when a PaymentMethod is created; raise its `card_error`s."""
    number = re.sub(r"[\s-]", "", number)
    if not re.fullmatch(r"\d{12,19}", number):
        raise card_error("invalid_number", "Your card number is invalid.", "card[number]")
    if not luhn_valid(number):
        raise card_error("incorrect_number", "Your card number is incorrect.", "card[number]")
    if not 1 <= exp_month <= 12:
        raise card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "card[exp_month]"
        )
    today = today or dt.datetime.now(dt.UTC).date()
    if exp_year < 100:
        exp_year += 2000
    if exp_year < today.year or exp_year > today.year + 50:
        raise card_error("invalid_expiry_year", "Your card's expiration year is invalid.", "card[exp_year]")
    if exp_year == today.year and exp_month < today.month:
        raise card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "card[exp_month]"
        )
    if cvc is not None and not re.fullmatch(r"\d{3,4}", cvc):
        raise card_error("invalid_cvc", "Your card's security code is invalid.", "card[cvc]")
    fingerprint = hmac.new(salt.encode(), number.encode(), hashlib.sha256).hexdigest()[:16]
    return Card(
        brand=brand_of(number),
        last4=number[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=fingerprint,
        funding=FUNDING.get(number, "credit"),
        country="US",
        behaviour=TEST_CARDS.get(number, LIVE_CARD),
        cvc_provided=cvc is not None,
    )
