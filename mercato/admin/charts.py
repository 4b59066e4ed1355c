"""Charts drawn on the server as SVG: no JavaScript chart library, works with CSP `script-src 'self'`,
prints, and screen readers get the same figures from the table beside each chart."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    caption: str  # the value as people read it, e.g. "€1,204.50"


def bar_chart(bars: list[Bar], *, title: str, width: int = 720, height: int = 240) -> str:
    """Vertical bars with the label under each one (every n-th label when there are many)."""
    top, bottom, left = 16, 36, 8
    plot = height - top - bottom
    peak = max((bar.value for bar in bars), default=0) or 1
    slot = (width - left * 2) / max(len(bars), 1)
    every = max(1, round(len(bars) / 12))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        h = plot * bar.value / peak
        x = left + i * slot + slot * 0.15
        y = top + plot - h
        parts.append(
            f'<rect class="bar-rect" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(bar.label)}: {escape(bar.caption)}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                f"{escape(bar.label)}</text>"
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}" stroke="#98a2b3"/></svg>'
    )
    return "".join(parts)


def horizontal_bars(bars: list[Bar], *, title: str, width: int = 480) -> str:
    """One labelled row per bar: good for categories (states, products)."""
    row, label_width = 26, 150
    height = row * max(len(bars), 1) + 8
    peak = max((bar.value for bar in bars), default=0) or 1
    span = width - label_width - 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        w = span * bar.value / peak
        parts.append(f'<text x="0" y="{y + 16}">{escape(bar.label[:24])}</text>')
        parts.append(
            f'<rect class="bar-rect" x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 8}"/>'
        )
        parts.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 16}">{escape(bar.caption)}</text>')
    parts.append("</svg>")
    return "".join(parts)
