from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import HOST, Topology, var_dir

SANDBOX_TWILIO_ACCOUNT_SID = "ACmercatosandbox000000000000000000"
SANDBOX_TWILIO_AUTH_TOKEN = "mercato_sandbox_token"  # noqa: S105 - the local SMS sandbox's well-known token


class NotificationsSettings(ServiceSettings):
    model_config = service_config("notifications")

    service_name: str = "notifications"
    personal_data: ClassVar[bool] = True  # contacts and the messages sent to them: encrypted

    # E-mail over SMTP: the local SMTP sink by default; any SMTP relay (SES, SendGrid, Postfix) in production.
    smtp_host: str = HOST
    smtp_port: int = 0  # default: the sink of the local topology
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False  # implicit TLS (port 465)
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Mercato <orders@mercato.localhost>"

    # SMS through the official twilio SDK: the local Twilio-compatible sandbox by default.
    # "local" (default): the sandbox of the local topology; empty: Twilio itself.
    twilio_api_base_url: str = "local"
    twilio_account_sid: str = SANDBOX_TWILIO_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(SANDBOX_TWILIO_AUTH_TOKEN)
    sms_from: str = "+15005550006"

    # Push to iOS through APNs (aioapns: HTTP/2, token authentication with a .p8 key). "local" (default):
    # the APNs stand-in of the local topology, with its key and certificate under var/keys; empty: Apple
    # (api.push.apple.com, or api.development.push.apple.com with apns_use_sandbox).
    apns_host: str = "local"
    apns_port: int = 443
    apns_key_file: Path | None = None  # the .p8 auth key (default with "local": the stand-in's)
    apns_key_id: str = ""
    apns_team_id: str = ""
    apns_topic: str = "org.mercato.shop"  # the app's bundle id
    apns_use_sandbox: bool = False  # Apple's development environment (apps built for development)
    apns_ca_file: Path | None = None  # trust this certificate instead of the system's (the stand-in's)
    # Push to Android through FCM HTTP v1 (google-auth service-account credentials, then aiohttp).
    # "local" (default): the FCM stand-in of the local topology with its service account; empty: Google.
    fcm_base_url: str = "local"
    fcm_project_id: str = ""
    fcm_service_account_file: Path | None = None  # the key file the Cloud console downloads
    push_timeout_seconds: float = 10.0
    # The service account's token endpoint, when not the one its key file names (the local stand-in's
    # port moves with MERCATO_PORT_OFFSET).
    fcm_token_uri: str | None = None

    # Orders, asked for the invoice a confirmation e-mail attaches (default: the local topology's).
    orders_url: str = ""
    orders_timeout_seconds: float = 10.0
    # Payments, asked for the code of a gift card an e-mail sends (default: the local topology's).
    payments_url: str = ""
    payments_timeout_seconds: float = 10.0
    # Where links in messages point (the web storefront).
    storefront_url: str = "http://127.0.0.1:8000"
    shop_name: str = "Mercato"

    # The dispatcher: how often to look for messages due (besides being woken after each commit), and
    # how to retry a provider that is down.
    dispatch_interval_seconds: float = 2.0
    dispatch_max_attempts: int = 8
    dispatch_retry_base_seconds: float = 2.0  # 2, 4, 8 … seconds between attempts, at most 5 minutes

    @model_validator(mode="after")
    def _providers(self) -> NotificationsSettings:
        topology = Topology.from_env()
        if not self.smtp_port:
            self.smtp_port = topology.mail_sink_smtp_port
        self.orders_url = self.orders_url or topology.service("orders").url
        self.payments_url = self.payments_url or topology.service("payments").url
        if self.twilio_api_base_url == "local":
            if self.environment == "production":
                raise ValueError(
                    "MERCATO_NOTIFICATIONS_TWILIO_API_BASE_URL must not be the local sandbox in production"
                )
            self.twilio_api_base_url = topology.sms_sandbox_url
        return self._push_providers(topology)

    def _push_providers(self, topology: Topology) -> NotificationsSettings:
        keys = var_dir() / "keys"
        for name, local in (
            ("apns_host", self.apns_host == "local"),
            ("fcm_base_url", self.fcm_base_url == "local"),
        ):
            if local and self.environment == "production":
                raise ValueError(
                    f"MERCATO_NOTIFICATIONS_{name.upper()} must not be the local stand-in in production"
                )
        if self.apns_host == "local":  # (the names of mercato.sandbox.push_keys, which we don't import)
            self.apns_host, self.apns_port = HOST, topology.push_sandbox_apns_port
            self.apns_key_file = self.apns_key_file or keys / "push-sandbox-apns-key.p8"
            self.apns_key_id, self.apns_team_id = (
                self.apns_key_id or "MERCATO0KY",
                self.apns_team_id or "MERCATO0TM",
            )
            self.apns_ca_file = self.apns_ca_file or keys / "push-sandbox-tls.pem"
        elif not self.apns_host:
            self.apns_host = (
                "api.development.push.apple.com" if self.apns_use_sandbox else "api.push.apple.com"
            )
        if self.fcm_base_url == "local":
            self.fcm_base_url = topology.push_sandbox_url
            self.fcm_project_id = self.fcm_project_id or "mercato-sandbox"
            self.fcm_service_account_file = (
                self.fcm_service_account_file or keys / "push-sandbox-fcm-service-account.json"
            )
            self.fcm_token_uri = f"{topology.push_sandbox_url}/token"
        elif not self.fcm_base_url:
            self.fcm_base_url = "https://fcm.googleapis.com"
        return self
