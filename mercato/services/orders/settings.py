from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import reportlab
from pydantic import SecretStr, model_validator

from mercato.platform.settings import DEVELOPMENT_SECRET, ServiceSettings, service_config
from mercato.topology import Topology, var_dir

REPORTLAB_FONTS = Path(reportlab.__file__).parent / "fonts"
DEMO_SELLER_VAT_ID = "DE000000000"


class OrdersSettings(ServiceSettings):
    model_config = service_config("orders")

    service_name: str = "orders"
    personal_data: ClassVar[bool] = True  # shipping addresses: encrypted (docs/security.md)
    blind_index: ClassVar[bool] = True  # a guest's e-mail: their orders are found by it
    catalog_url: str = ""
    payments_url: str = ""
    notifications_url: str = ""  # a guest's GDPR export asks it for the messages written to the guest
    # Longer than the slowest provider call, so a checkout in flight is not yet "stuck".
    call_timeout_seconds: float = 15.0
    reconcile_after_seconds: float = 60.0
    reconcile_every_seconds: float = 5.0
    reservation_ttl_seconds: int = 900
    # Where a cart is quoted for before the shopper says (an address, or the shop's country picker).
    default_country: str = "DE"
    # The quote's tax rates and shipping methods are kept in memory (pricing/cache.py): reloaded this
    # often, so another replica's change in the back office applies here within this many seconds.
    pricing_refresh_seconds: float = 30.0
    # US states where the merchant has nexus and so collects sales tax (docs/tax.md); elsewhere none.
    us_tax_nexus: list[str] = ["CA", "NY", "TX", "WA"]
    max_line_quantity: int = 99
    max_cart_lines: int = 50
    # Signs the links that show a guest's order without an account (docs/guest-checkout.md); changing
    # it invalidates every link sent so far.
    order_link_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # Where those links point: the web storefront's order page.
    storefront_url: str = ""
    # How long the link that adds a guest's earlier orders to a new account stays valid.
    claim_link_days: int = 7
    # The longest range, in days, a back-office report covers (one year, leap years included).
    report_max_days: int = 366
    # Invoices and credit notes (docs/invoices.md): who sells, as printed on them.
    seller_name: str = "Mercato Demo GmbH"
    seller_address: list[str] = ["Torstraße 1", "10119 Berlin", "Germany"]  # one item a printed line
    seller_vat_id: str = DEMO_SELLER_VAT_ID  # refused in production: set the shop's own
    seller_email: str | None = "orders@mercato.localhost"
    # The fonts they are set in (TrueType). ReportLab's own Bitstream Vera covers Western European
    # scripts; for others, name a font that has them (e.g. Debian's DejaVuSans.ttf and -Bold.ttf).
    invoice_font: Path = REPORTLAB_FONTS / "Vera.ttf"
    invoice_font_bold: Path = REPORTLAB_FONTS / "VeraBd.ttf"
    # Where their PDFs are kept: local files (default var/documents) or an S3 bucket.
    document_store: Literal["local", "s3"] = "local"
    document_dir: Path | None = None
    document_s3_bucket: str = "mercato-documents"
    document_s3_endpoint_url: str | None = None  # None = AWS; set for MinIO and other S3-compatible stores
    document_s3_region: str = "us-east-1"
    # Tests only: when this file exists, the process kills itself between capture and commit.
    crash_hook_file: Path | None = None

    @model_validator(mode="after")
    def _siblings(self) -> OrdersSettings:
        topology = Topology.from_env()
        self.catalog_url = self.catalog_url or topology.service("catalog").url
        self.payments_url = self.payments_url or topology.service("payments").url
        self.notifications_url = self.notifications_url or topology.service("notifications").url
        self.storefront_url = self.storefront_url or topology.storefront_url
        self.document_dir = self.document_dir or var_dir() / "documents"
        if self.seller_vat_id == DEMO_SELLER_VAT_ID and self.environment == "production":
            raise ValueError("MERCATO_ORDERS_SELLER_VAT_ID must be the shop's own in production")
        if self.crash_hook_file and self.environment == "production":
            raise ValueError("the crash hook is for tests and refuses to run in production")
        return self
