"""Where notifications sends is configuration: the local stand-ins by default, real providers by setting."""

from __future__ import annotations

import pytest

from mercato.platform.crypto import new_key
from mercato.services.notifications.settings import NotificationsSettings


def test_by_default_mail_and_sms_go_to_the_local_stand_ins(monkeypatch):
    monkeypatch.setenv("MERCATO_PORT_OFFSET", "300")
    settings = NotificationsSettings()
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 8425)
    assert settings.twilio_api_base_url == "http://127.0.0.1:8411"


def test_an_empty_twilio_base_means_twilio_itself(monkeypatch):
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_TWILIO_API_BASE_URL", "")
    assert NotificationsSettings().twilio_api_base_url == ""


def test_production_refuses_the_sms_sandbox(monkeypatch):
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_ENVIRONMENT", "production")
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_CURSOR_SECRET", "a-real-secret")
    with pytest.raises(ValueError, match="DATA_KEYS or MERCATO_NOTIFICATIONS_DATA_KEY_FILE must be set"):
        NotificationsSettings()  # personal data needs keys given in production, never made on the spot
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_DATA_KEYS", new_key())
    with pytest.raises(ValueError, match="local sandbox in production"):
        NotificationsSettings()
