"""The page of a document sent to a patient (`/d/{token}`): plain HTML forms, no script, for any
phone. Step one sends a one-time code by SMS; step two takes the code and downloads the PDF."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from aiohttp import web

from agent.access.rate_limits import Door
from agent.api.context import services_of
from agent.api.errors import MESSAGES
from agent.api.responses import file_response, message_page
from agent.links import patient_share
from agent.refusal import Refused


def _refused(establishment: str, exc: Refused, token: str) -> web.Response:
    status, template = MESSAGES[exc.code]
    again = "" if exc.code in ("share_unknown", "share_expired") else _ask_form(token, "Recevoir un nouveau code")
    return message_page(status, establishment, "Téléchargement impossible",
                 f'<p class="alert" role="alert">{html.escape(template.format(**exc.params))}</p>{again}')


def _ask_form(token: str, label: str) -> str:
    return (f'<form method="post" action="/d/{html.escape(token)}/code">'
            f'<button class="button primary" type="submit">{html.escape(label)}</button></form>')


async def landing(request: web.Request) -> web.Response:
    services = services_of(request)
    establishment = services.dossier_settings.establishment
    token = request.match_info["token"]
    try:
        await services.store.read(patient_share.check_live, token, datetime.now(UTC))
    except Refused as exc:
        return _refused(establishment, exc, token)
    return message_page(200, establishment, "Un document vous attend",
                 "<p>Pour protéger vos données de santé, un code à usage unique vous est envoyé par SMS.</p>"
                 + _ask_form(token, "Recevoir le code par SMS"))


async def send_code(request: web.Request) -> web.Response:
    services = services_of(request)
    establishment = services.dossier_settings.establishment
    token = request.match_info["token"]
    try:
        services.rate_limits.knock(Door.CODE_SENT, request.remote)
        services.rate_limits.may_send_code(token)
        where = await services.store.write(patient_share.send_code, token, datetime.now(UTC), establishment, essential=True)
    except Refused as exc:
        return _refused(establishment, exc, token)
    services.rate_limits.code_sent(token)
    services.deliveries_wake()
    return message_page(200, establishment, "Saisissez le code reçu",
                 f"<p>Code envoyé par SMS au {html.escape(where)}. Il expire dans 10 minutes.</p>"
                 f'<form method="post" action="/d/{html.escape(token)}" class="form">'
                 '<div class="field"><label for="code">Code reçu</label>'
                 '<input id="code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required></div>'
                 '<button class="button primary" type="submit">Télécharger le document</button></form>')


async def download(request: web.Request) -> web.Response:
    services = services_of(request)
    establishment = services.dossier_settings.establishment
    token = request.match_info["token"]
    form = await request.post()
    code = str(form.get("code", ""))[:12]
    try:
        services.rate_limits.knock(Door.CODE_TRIED, request.remote)
        blob, name = await services.store.write(patient_share.download, token, code, datetime.now(UTC), request.remote, essential=True)
    except Refused as exc:
        return _refused(establishment, exc, token)
    data = await asyncio.get_running_loop().run_in_executor(None, services.blobs.get, blob)
    return file_response(data, "application/pdf", name)


def install(app: web.Application) -> None:
    app.router.add_get("/d/{token}", landing)
    app.router.add_post("/d/{token}/code", send_code)
    app.router.add_post("/d/{token}", download)
