from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from mercato.platform.settings import ServiceSettings, service_config
from mercato.topology import Topology, var_dir


class SearchSettings(ServiceSettings):
    model_config = service_config("search")

    service_name: str = "search"
    index_dir: Path | None = None  # default var/search: the Tantivy index (its own, per replica)
    catalog_url: str = ""  # where a rebuild reads product snapshots; default: catalog in the topology
    # How long the gateway's cache (and a browser's) may answer a search before asking again (by ETag);
    # plus up to a second, as caches count age in whole seconds.
    results_max_age_seconds: int = 1
    # How often catalog's markets (which currency a country pays in) are fetched again.
    markets_refresh_seconds: float = 60.0

    @model_validator(mode="after")
    def _index_dir(self) -> SearchSettings:
        if self.index_dir is None:
            self.index_dir = var_dir() / "search"
        if not self.catalog_url:
            self.catalog_url = Topology.from_env().service("catalog").url
        return self
