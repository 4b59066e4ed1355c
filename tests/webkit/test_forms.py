"""The address form's own checks and the API's refusals, in the shopper's words: never the validator's."""

from __future__ import annotations

from mercato.webkit import forms
from mercato.webkit.countries import COUNTRIES, country_name

GOOD = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}


def test_a_complete_address_has_no_errors_and_the_api_gets_only_what_was_filled_in():
    values = forms.read_address(GOOD | {"country": " de ", "line2": "  "})
    assert forms.address_errors(values) == {}
    assert forms.address_body(values) == GOOD


def test_each_missing_or_wrong_field_gets_its_own_message():
    errors = forms.address_errors(forms.read_address({"name": "Ada", "country": "XX", "phone": "call me"}))
    assert set(errors) == {"line1", "postal_code", "city", "country", "phone"}
    assert errors["country"] == "Please choose a country from the list."
    assert forms.address_errors(GOOD | {"postal_code": "1" * 21}) == {
        "postal_code": "Please enter the postal code (up to 20 characters)."
    }
    assert forms.address_errors(GOOD | {"line1": "1 Main St\tBack"}) == {"line1": forms.ONE_LINE}


def test_the_apis_own_wording_never_reaches_the_page():
    api = {
        "shipping_address.country": "String should match pattern '^[A-Za-z]{2}$'",
        "shipping_address.city": "String should have at least 1 character",
        "payment_method": "Field required",
    }
    errors = forms.human_errors(api, forms.ADDRESS_MESSAGES, "Please check the form.")
    assert errors == {
        "country": "Please choose a country from the list.",
        "city": "Please enter the town or city.",
        "": "Please check the form.",
    }
    assert not any("String should" in message or "required" in message for message in errors.values())
    assert forms.human_errors(None, forms.ADDRESS_MESSAGES, "x") == {}


def test_countries_are_named_and_keyed_by_iso_code():
    codes = [code for code, _ in COUNTRIES]
    assert len(codes) == len(set(codes)) >= 249 and all(len(code) == 2 and code.isupper() for code in codes)
    assert country_name("DE") == "Germany" and country_name("gb") == "United Kingdom"
    assert country_name("ZZ") == "ZZ"
