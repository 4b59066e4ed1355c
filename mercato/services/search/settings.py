from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import var_dir


class SearchSettings(ServiceSettings):
    model_config = service_config("search")

    service_name: str = "search"
    index_dir: Path | None = None  # default var/search: the Tantivy index (its own, per replica)

    @model_validator(mode="after")
    def _index_dir(self) -> SearchSettings:
        if self.index_dir is None:
            self.index_dir = var_dir() / "search"
        return self
