"""Mobile API knobs from `MERCATO_MOBILE_API_*`; the services' URLs and the payment provider's default to the
topology, as the storefront's do."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import Topology


class MobileApiSettings(ServiceSettings):
    model_config = service_config("mobile_api")

    service_name: str = "mobile-api"
    has_database: ClassVar[bool] = False
    cursor_secret: SecretStr | None = None  # no cursors of its own: it passes the services' on

    # The services it composes, on their private addresses (never through the gateway).
    catalog_url: str = ""
    search_url: str = ""
    orders_url: str = ""
    customers_url: str = ""
    call_timeout_seconds: float = 5.0
    # The app tokenises cards itself at the provider, with the publishable key (a card number never
    # reaches Mercato): the same values as the storefront's MERCATO_STOREFRONT_PAYMENT_* settings.
    payment_api_base: str = ""  # default: the payment sandbox locally; https://api.stripe.com in production
    payment_publishable_key: str = "pk_test_mercato_sandbox"
    payment_wallets: list[str] = ["apple_pay", "google_pay"]
    # How long a client or the gateway may keep a public screen (home, listings, product) before asking
    # again by ETag; as catalog's `browse_max_age_seconds`.
    public_max_age_seconds: int = Field(default=1, ge=0, le=300)
    featured_count: int = Field(default=8, ge=1, le=50)

    @model_validator(mode="after")
    def _from_topology(self) -> MobileApiSettings:
        topology = Topology.from_env()
        for name in ("catalog", "search", "orders", "customers"):
            if not getattr(self, f"{name}_url"):
                setattr(self, f"{name}_url", topology.service(name).url)
        if not self.payment_api_base:
            self.payment_api_base = topology.payment_sandbox_url
        return self
