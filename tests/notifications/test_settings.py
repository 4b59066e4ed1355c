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


def test_by_default_pushes_go_to_the_local_stand_ins_with_their_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("MERCATO_PORT_OFFSET", "300")
    monkeypatch.setenv("MERCATO_VAR_DIR", str(tmp_path))
    settings = NotificationsSettings()
    assert (settings.apns_host, settings.apns_port) == ("127.0.0.1", 8427)
    assert settings.apns_key_file == tmp_path / "keys" / "push-sandbox-apns-key.p8"
    assert settings.apns_ca_file == tmp_path / "keys" / "push-sandbox-tls.pem"
    assert (settings.apns_key_id, settings.apns_team_id, settings.apns_topic) == (
        "MERCATO0KY",
        "MERCATO0TM",
        "org.mercato.shop",
    )
    assert settings.fcm_base_url == "http://127.0.0.1:8428"
    assert settings.fcm_token_uri == "http://127.0.0.1:8428/token"
    assert settings.fcm_service_account_file == tmp_path / "keys" / "push-sandbox-fcm-service-account.json"


def test_empty_push_hosts_mean_apple_and_google(monkeypatch):
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_APNS_HOST", "")
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_FCM_BASE_URL", "")
    settings = NotificationsSettings()
    assert (settings.apns_host, settings.apns_port, settings.apns_ca_file) == (
        "api.push.apple.com",
        443,
        None,
    )
    assert settings.fcm_base_url == "https://fcm.googleapis.com" and settings.fcm_token_uri is None
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_APNS_USE_SANDBOX", "true")
    assert NotificationsSettings().apns_host == "api.development.push.apple.com"


def test_production_refuses_the_push_stand_ins(monkeypatch):
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_ENVIRONMENT", "production")
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_CURSOR_SECRET", "a-real-secret")
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_DATA_KEYS", new_key())
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_TWILIO_API_BASE_URL", "")
    with pytest.raises(ValueError, match="APNS_HOST must not be the local stand-in"):
        NotificationsSettings()
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_APNS_HOST", "")
    with pytest.raises(ValueError, match="FCM_BASE_URL must not be the local stand-in"):
        NotificationsSettings()
    monkeypatch.setenv("MERCATO_NOTIFICATIONS_FCM_BASE_URL", "")
    assert NotificationsSettings().apns_host == "api.push.apple.com"
