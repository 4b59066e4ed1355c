from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import HOST, Topology

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
        if self.twilio_api_base_url == "local":
            if self.environment == "production":
                raise ValueError(
                    "MERCATO_NOTIFICATIONS_TWILIO_API_BASE_URL must not be the local sandbox in production"
                )
            self.twilio_api_base_url = topology.sms_sandbox_url
        return self
