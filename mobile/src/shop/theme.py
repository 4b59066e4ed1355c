"""The web shop's look (mercato/storefront/static/style.css): its colours, its system font stack, big
touch targets. Every screen styles itself with these helpers, so a change of colour is made here."""

from __future__ import annotations

import textwrap

from toga.style import Pack

INK = "#1d1d1f"
MUTED = "#6b6b70"
LINE = "#e4e4e7"
BG = "#fafafa"
CARD = "#ffffff"
ACCENT = "#1f5f4a"
ACCENT_INK = "#ffffff"
DANGER = "#a4262c"
WARNING_BG = "#fff4d6"
# The storefront's stack starts with system-ui; Toga's "system" is the platform's UI font.
FONT = "system"
BODY = 15
SMALL = 13
TITLE = 22
GAP = 12
PHONE_WIDTH = 390  # the design width: everything fits one column at this width
PHONE_HEIGHT = 844
LINE_CHARS = 36  # what fits in one line of body text at 390 px (Toga's labels do not wrap by themselves)


def wrap(value: str, chars: int = LINE_CHARS) -> str:
    return "\n".join(textwrap.fill(part, chars, break_on_hyphens=False) for part in value.split("\n"))


def shorten(value: str, chars: int) -> str:
    return value if len(value) <= chars else value[: chars - 1].rstrip() + "…"


def _pack(defaults: dict, extra: dict) -> Pack:
    return Pack(**(defaults | extra))  # what a caller passes wins over the defaults


def column(**extra) -> Pack:
    return _pack({"direction": "column"}, extra)


def row(**extra) -> Pack:
    return _pack({"direction": "row", "align_items": "center"}, extra)


def text(size: int = BODY, color: str = INK, weight: str = "normal", **extra) -> Pack:
    return _pack({"font_family": FONT, "font_size": size, "color": color, "font_weight": weight}, extra)


def title(**extra) -> Pack:
    return text(TITLE, weight="bold", **({"margin_bottom": GAP} | extra))


def muted(**extra) -> Pack:
    return text(SMALL, MUTED, **extra)


def _button(color: str, background: str, height: int, extra: dict) -> Pack:
    defaults = {"font_size": BODY, "color": color, "font_weight": "bold", "background_color": background}
    return _pack({"font_family": FONT, "height": height, "margin": (4, 0)} | defaults, extra)


def primary(**extra) -> Pack:
    """The screen's main action: full width, accent colour, at the bottom within reach of a thumb."""
    return _button(ACCENT_INK, ACCENT, 48, extra)


def secondary(**extra) -> Pack:
    return _button(ACCENT, CARD, 44, extra)


def card(**extra) -> Pack:
    return _pack({"direction": "column", "background_color": CARD, "margin": (0, 0, GAP, 0)}, extra)


def banner(kind: str) -> Pack:
    colours = {"offline": (INK, WARNING_BG), "error": (ACCENT_INK, DANGER), "info": (ACCENT_INK, ACCENT)}
    fg, bg = colours[kind]
    return text(BODY, fg, "bold", background_color=bg, margin=(8, 12))
