"""The push stand-ins' web view: every push received, newest first, as a phone's lock screen would
show it (title and body), with what the provider checked (HTTP version, headers, status)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.responses import HTMLResponse, Response

PAGE_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .6rem;
border-bottom: 1px solid #ddd; vertical-align: top; } th { background: #f4f4f4; } .muted { color: #777; }
.refused { color: #a40000; } code { font-size: 12px; word-break: break-all; }
.push { background: #f2f2f7; border-radius: 12px; padding: .5rem .8rem; max-width: 26rem; }
"""
EMPTY = "<tr><td colspan=5 class=muted>No pushes.</td></tr>"


def _row(push: dict[str, Any]) -> str:
    status = f"{push['status']}" + (f" {escape(push['reason'])}" if push["reason"] else "")
    checked = ", ".join(f"{k}: {v}" for k, v in sorted(push["headers"].items()))
    return (
        "<tr>"
        f"<td>{escape(push['received_at'])}</td>"
        f"<td>{'APNs' if push['provider'] == 'apns' else 'FCM'}<br>"
        f"<span class=muted>HTTP/{escape(str(push['http_version']))}</span></td>"
        f"<td><code>{escape(push['token'] or '')}</code></td>"
        f"<td><div class=push><strong>{escape(push['title'] or '')}</strong><br>{escape(push['body'] or '')}"
        f"</div><span class=muted>{escape(json.dumps(push['data']))}</span></td>"
        f"<td class='{'' if push['status'] == 200 else 'refused'}'>{status}<br>"
        f"<span class=muted>{escape(checked)}</span></td></tr>"
    )


def page(pushes: list[dict[str, Any]], *, token: str, settings: Any) -> Response:
    body = (
        "<h1>Push stand-ins</h1>"
        f"<p class=muted>{len(pushes)} push(es), newest first. APNs (HTTP/2 over TLS) on "
        f"127.0.0.1:{settings.apns_port}, topic <code>{escape(settings.apns_topic)}</code>; FCM HTTP v1 and "
        f"its OAuth token endpoint on 127.0.0.1:{settings.port}. JSON: <a href='/_sandbox/pushes'>"
        "/_sandbox/pushes</a>.</p>"
        '<form method="get" action="/"><input name="token" placeholder="device token" '
        f'value="{escape(token)}"> '
        "<button>Filter</button></form>"
        "<table><thead><tr><th>Received</th><th>Provider</th><th>Device token</th><th>Push</th>"
        "<th>Answer</th></tr></thead>"
        f"<tbody>{''.join(map(_row, pushes)) or EMPTY}</tbody></table>"
    )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Push stand-ins</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, headers={"Content-Security-Policy": PAGE_CSP})
