"""The one normalisation of e-mail addresses, and what a new account's address may not be."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from mercato.contracts.emails import EmailAddress, confusable_problem, normalise_email

COMPOSED = "jos\u00e9@example.com"
DECOMPOSED = "jose\u0301@example.com"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (DECOMPOSED, COMPOSED),
        ("  JOSE\u0301@Example.COM ", COMPOSED),
        ("Ada.Lovelace+Shop@Example.com", "ada.lovelace+shop@example.com"),  # dots and tags are kept
        ("stra\u00dfe@example.com", "stra\u00dfe@example.com"),  # lower-cased, not case-folded: ß stays
        ("x@xn--bcher-kva.de", "x@b\u00fccher.de"),  # IDNA: one Unicode form of the domain
        ("x@B\u00dcCHER.de", "x@b\u00fccher.de"),
        ("x@Bu\u0308cher.de", "x@b\u00fccher.de"),
        ("x@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\u3002com", "x@example.com"),  # full-width domain
        ("not an address", "not an address"),  # total: sign-in with garbage simply matches nobody
        ("a@b@Example.com", "a@b@example.com"),
    ],
)
def test_every_spelling_of_an_address_has_one_normal_form(typed, stored):
    assert normalise_email(typed) == stored
    assert normalise_email(stored) == stored  # idempotent


@pytest.mark.parametrize(
    "address",
    [
        "p\u0430ypal@example.com",  # Cyrillic a (U+0430) among Latin letters
        "paypal@ex\u0430mple.com",  # ... in a domain label
        "\u03bfmega@example.com",  # Greek omicron with Latin letters
        "\uff41da@example.com",  # full-width a
        "\ufb01le@example.com",  # the ligature ﬁ
    ],
)
def test_addresses_that_pass_for_others_are_refused(address):
    assert confusable_problem(address)
    with pytest.raises(ValidationError):
        TypeAdapter(EmailAddress).validate_python(address)


@pytest.mark.parametrize(
    "address",
    [
        "\u0438\u0432\u0430\u043d@\u044f\u043d\u0434\u0435\u043a\u0441.\u0440\u0444",  # all Cyrillic
        "ivan@\u044f\u043d\u0434\u0435\u043a\u0441.\u0440\u0444",  # Latin mailbox, Cyrillic domain
        "\u5c71\u7530\u305f\u308d\u3046@example.jp",  # Han and Hiragana: written together
        "taro\u30bf\u30ed\u30a6@example.jp",  # Latin and Katakana
        "user-2024_x@example.com",
    ],
)
def test_single_script_and_customary_mixes_are_fine(address):
    assert confusable_problem(address) is None
    assert TypeAdapter(EmailAddress).validate_python(address) == normalise_email(address)
