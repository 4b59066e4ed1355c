from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import var_dir

MIB = 1024 * 1024
MULTIPART_ALLOWANCE = 64 * 1024


class CatalogSettings(ServiceSettings):
    model_config = service_config("catalog")

    service_name: str = "catalog"
    image_store: Literal["local", "s3"] = "local"
    image_dir: Path | None = None  # local store; default var/images
    s3_bucket: str = "mercato-images"
    s3_endpoint_url: str | None = None  # None = AWS; set for MinIO and other S3-compatible stores
    s3_region: str = "us-east-1"
    # Public URL prefix for images (a CDN or the bucket). Default: served by catalog via the gateway.
    image_base_url: str = "/api/v1/images"
    # How long the gateway's cache (and a browser's) may answer a product page or a page of the product
    # list before asking catalog again (by ETag): the bound on a stale price or stock figure a shopper
    # can see, plus up to a second (caches count age in whole seconds). Checkout never reads these.
    browse_max_age_seconds: int = 1
    reservation_ttl_seconds: int = 900
    reservation_max_ttl_seconds: int = 3600
    expiry_sweep_seconds: float = 5.0
    # How often each replica checks whether a sale started or ended (one small SELECT when none did): a
    # page shows the new price within this (and the rendering) after the moment (catalog/sales.py).
    sale_flip_seconds: float = 1.0
    # Uploads to the back office: an image, and a CSV import (bytes, and variant rows).
    image_max_bytes: int = 5 * MIB
    import_max_bytes: int = 10 * MIB
    import_max_rows: int = 50_000
    # Room for the largest upload and its multipart framing; JSON bodies stay small by their schemas.
    max_body_bytes: int = 10 * MIB + MULTIPART_ALLOWANCE

    @model_validator(mode="after")
    def _image_dir(self) -> CatalogSettings:
        if self.image_dir is None:
            self.image_dir = var_dir() / "images"
        return self

    @model_validator(mode="after")
    def _uploads_fit_in_a_body(self) -> CatalogSettings:
        largest = max(self.image_max_bytes, self.import_max_bytes) + MULTIPART_ALLOWANCE
        if self.max_body_bytes < largest:
            raise ValueError(
                f"MERCATO_CATALOG_MAX_BODY_BYTES ({self.max_body_bytes}) must be at least {largest}: "
                "the largest upload (image_max_bytes, import_max_bytes) plus its multipart framing"
            )
        return self
