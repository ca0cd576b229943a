"""What the agent answers besides JSON: files to download, and the small French pages that
people outside the kiosk open from a link (invitations, documents sent to a patient)."""

from __future__ import annotations

import html

from aiohttp import web

NO_STORE = {"Cache-Control": "no-store"}  # health data: never kept by a browser or a proxy


def file_response(data: bytes, content_type: str, filename: str, *, inline: bool = False) -> web.Response:
    """A file, never cached; its name in ASCII (a header's own charset) with quotes defused."""
    safe = filename.encode("ascii", "replace").decode().replace('"', "'")
    disposition = "inline" if inline else "attachment"
    return web.Response(body=data, content_type=content_type,
                        headers={**NO_STORE, "Content-Disposition": f'{disposition}; filename="{safe}"'})


def message_page(status: int, banner: str, title: str, body_html: str) -> web.Response:
    """A one-card French page; `body_html` is already escaped by the caller."""
    text = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{html.escape(title)} — {html.escape(banner)}</title><link rel="stylesheet" href="/static/css/telecart.css"></head>
<body class="page-message"><main class="card message join"><p class="join-establishment">{html.escape(banner)}</p>
<h1>{html.escape(title)}</h1>{body_html}</main></body></html>"""
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8", headers=NO_STORE)
