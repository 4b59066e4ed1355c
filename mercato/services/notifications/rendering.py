"""Messages from Jinja2 templates: for each kind, a subject, a text and an HTML body for e-mail, an
optional SMS text and an optional push (`<kind>.push.jinja`: its first line the title, the rest the
body). HTML is autoescaped; the text, SMS and push templates are not (they are not HTML)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "SEK": "kr ", "JPY": "¥"}
_ZERO_DECIMAL = {"JPY", "KRW", "CLP", "VND"}


def money(value: Any) -> str:
    """€12.34 from {"amount": 1234, "currency": "EUR"} (integer minor units, never floats)."""
    amount, currency = (value["amount"], value["currency"]) if isinstance(value, dict) else value
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    if currency in _ZERO_DECIMAL:
        return f"{symbol}{amount:,}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str | None
    push: tuple[str, str] | None = None  # (title, body)


class Renderer:
    def __init__(self, *, shop_name: str, storefront_url: str) -> None:
        self.defaults = {"shop_name": shop_name, "storefront_url": storefront_url.rstrip("/")}
        loader = FileSystemLoader(TEMPLATES)
        # The templates ship with the code: loaded once, never checked on disk again (auto_reload off).
        self.html = Environment(
            loader=loader,
            autoescape=select_autoescape(["html.jinja"]),
            undefined=StrictUndefined,
            auto_reload=False,
        )
        # text/plain and SMS bodies are never rendered as HTML: escaping would garble them
        self.plain = Environment(
            loader=loader,
            autoescape=False,  # noqa: S701
            undefined=StrictUndefined,
            auto_reload=False,
        )
        for environment in (self.html, self.plain):
            environment.filters["money"] = money
        # Which kinds have an SMS or a push, known once: a missing template is not looked up per message.
        self.templates = frozenset(loader.list_templates())

    def render(self, kind: str, *, with_sms: bool = True, **context: Any) -> Rendered:
        """The message of `kind`; its SMS text only `with_sms` (and where the kind has one)."""
        context = {**self.defaults, **context}
        subject = " ".join(self.plain.get_template(f"{kind}.subject.jinja").render(context).split())
        sms = None
        if with_sms and f"{kind}.sms.jinja" in self.templates:
            sms = self.plain.get_template(f"{kind}.sms.jinja").render(context).strip()
        push = None
        with contextlib.suppress(TemplateNotFound):
            title, _, body = (
                self.plain.get_template(f"{kind}.push.jinja").render(context).strip().partition("\n")
            )
            push = (" ".join(title.split()), " ".join(body.split()))
        return Rendered(
            subject=subject,
            push=push,
            text=self.plain.get_template(f"{kind}.txt.jinja").render(context).strip() + "\n",
            html=self.html.get_template(f"{kind}.html.jinja").render({**context, "subject": subject}),
            sms=sms,
        )
