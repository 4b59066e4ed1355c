from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import Topology

SANDBOX_SECRET_KEY = "sk_test_mercato_sandbox"  # noqa: S105 - the local sandbox's well-known key
SANDBOX_WEBHOOK_SECRET = "whsec_mercato_sandbox"  # noqa: S105


class PaymentsSettings(ServiceSettings):
    model_config = service_config("payments")

    service_name: str = "payments"
    personal_data: ClassVar[bool] = True  # gift cards' codes (whoever knows one can spend it): encrypted
    # The official Stripe SDK talks to this API base: "local" (default) is the sandbox of the local
    # topology; empty means Stripe itself.
    stripe_api_base: str = "local"
    stripe_api_key: SecretStr = SecretStr(SANDBOX_SECRET_KEY)
    stripe_webhook_secret: SecretStr = SecretStr(SANDBOX_WEBHOOK_SECRET)
    provider_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _provider(self) -> PaymentsSettings:
        if self.stripe_api_base == "local":
            self.stripe_api_base = Topology.from_env().payment_sandbox_url
        if self.environment == "production" and self.stripe_api_key.get_secret_value() == SANDBOX_SECRET_KEY:
            raise ValueError("MERCATO_PAYMENTS_STRIPE_API_KEY must be a real Stripe key in production")
        return self
