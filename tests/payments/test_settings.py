"""Which payment provider the official SDK talks to is configuration: the local sandbox or Stripe."""

from __future__ import annotations

import pytest

from mercato.platform.crypto import new_key
from mercato.services.payments.provider import Provider
from mercato.services.payments.settings import PaymentsSettings


def test_by_default_the_sdk_talks_to_the_local_sandbox(monkeypatch):
    monkeypatch.setenv("MERCATO_PORT_OFFSET", "300")
    assert PaymentsSettings().stripe_api_base == "http://127.0.0.1:8410"


def test_an_empty_api_base_means_stripe_itself(monkeypatch):
    monkeypatch.setenv("MERCATO_PAYMENTS_STRIPE_API_BASE", "")
    settings = PaymentsSettings()
    assert settings.stripe_api_base == ""
    assert Provider(settings).client._requestor.base_addresses.get("api") == "https://api.stripe.com"


def test_production_refuses_the_sandbox_key(monkeypatch):
    monkeypatch.setenv("MERCATO_PAYMENTS_ENVIRONMENT", "production")
    monkeypatch.setenv("MERCATO_PAYMENTS_CURSOR_SECRET", "a-real-secret")
    monkeypatch.setenv("MERCATO_PAYMENTS_DATA_KEYS", new_key())  # (gift cards' codes are encrypted)
    with pytest.raises(ValueError, match="real Stripe key"):
        PaymentsSettings()
