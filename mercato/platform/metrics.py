"""A few counters in Prometheus' text format, on each service's private `/metrics`.

Enough to see request rates, errors and SQL statements per request from the benchmarks and from a
Prometheus scrape, without a client library on the hot path.
"""

from __future__ import annotations

from collections import defaultdict

Labels = tuple[tuple[str, str], ...]


class Metrics:
    def __init__(self) -> None:
        self.counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self.help: dict[str, str] = {}

    def inc(self, name: str, amount: float = 1.0, help_text: str = "", **labels: str) -> None:
        self.counters[name][tuple(sorted(labels.items()))] += amount
        if help_text:
            self.help.setdefault(name, help_text)

    def render(self) -> str:
        lines = []
        for name, series in sorted(self.counters.items()):
            if name in self.help:
                lines.append(f"# HELP {name} {self.help[name]}")
            lines.append(f"# TYPE {name} counter")
            for labels, value in sorted(series.items()):
                label_text = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
        return "\n".join(lines) + "\n"
