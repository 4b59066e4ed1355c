"""`mercato bench …`: measurements against a running development platform (figures in docs/performance.md)."""

from __future__ import annotations

import base64
import json

from prometheus_client.parser import text_string_to_metric_families

from mercato.contracts.staff import STAFF_CLAIMS_HEADER

BENCH_STAFF_ID = "stf_00000000000000000000000000"


def setup_staff_headers(*roles: str) -> dict[str, str]:
    """What the gateway forwards for a signed-in merchandiser: a benchmark sets up its stock and
    products on catalog's private port, where only the gateway's forwarded claims are checked (a
    development platform only; in production that port is not reachable)."""
    claims = {"sub": BENCH_STAFF_ID, "roles": list(roles or ("merchandising",)), "mfa": True}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {STAFF_CLAIMS_HEADER: encoded}


def metric_value(exposition: str, sample: str, **labels: str) -> float:
    """The sum of the samples named `sample` (e.g. `mercato_sql_statements_total`) whose labels include
    `labels`, in a `/metrics` text (0 when there is none)."""
    return sum(
        value.value
        for family in text_string_to_metric_families(exposition)
        for value in family.samples
        if value.name == sample and labels.items() <= value.labels.items()
    )
