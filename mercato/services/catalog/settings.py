from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import var_dir


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
    reservation_ttl_seconds: int = 900
    reservation_max_ttl_seconds: int = 3600
    expiry_sweep_seconds: float = 5.0

    @model_validator(mode="after")
    def _image_dir(self) -> CatalogSettings:
        if self.image_dir is None:
            self.image_dir = var_dir() / "images"
        return self
