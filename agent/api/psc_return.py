"""Where Pro Santé Connect sends the kiosk's browser back (`[psc] redirect_uri`): the code is
exchanged and checked (agent/access/psc.py), the professional's account found by their national
identifier, the session opened (agent/access/professional_login.py), and the kiosk shown. Anything
wrong is a French page with the way back to the login screen; no session is opened half-way."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from aiohttp import web

from agent.access import professional_login, psc
from agent.access.login import METHOD_PSC
from agent.access.professional_login import AccountPolicy, NotLinked
from agent.access.roles import Role
from agent.api.context import services_of
from agent.api.errors import MESSAGES
from agent.api.guard import give_link_cookie, give_session_cookie
from agent.clock import now
from agent.links import specialist_access
from agent.links.invitation import LinkRefused
from agent.links.specialist_access import AccessRefused

PATH = "/psc/retour"


def _page(title: str, text: str) -> web.Response:
    body = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/css/telecart.css"></head>
<body class="gate-page"><main class="gate-main"><div class="card psc-refused" role="alert"><h1>{html.escape(title)}</h1>
<p>{html.escape(text)}</p><a class="button primary" href="/">Revenir à l'écran de connexion</a></div></main></body></html>"""
    return web.Response(text=body, status=403, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


async def back_from_psc(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    refused = "Connexion Pro Santé Connect refusée"
    if not services.config.psc.enabled:
        return _page(refused, "Pro Santé Connect n'est pas activé sur ce chariot.")
    if request.query.get("error"):
        return _page(refused, "La connexion a été annulée ou refusée sur Pro Santé Connect. Vous pouvez recommencer.")
    flow = await services.store.write(psc.take_flow, request.query.get("state", ""), now(), essential=True)
    if flow is None:
        return _page(refused, "Cette connexion a expiré ou a déjà servi : recommencez depuis l'écran de connexion.")
    try:
        who = await services.psc.identity(request.query.get("code", ""), flow)
    except psc.PscRefused as error:
        return _page(refused, f"Connexion impossible : {error}.")
    if flow["purpose"] == "link":
        return await _into_the_dossier(request, flow["ref"], who)
    card = services.config.card
    professional = who.professional
    outcome = await services.store.write(professional_login.conclude, professional, METHOD_PSC, None, request.remote,
                                         services.login_policy, AccountPolicy(card.create_accounts, Role(card.new_account_role)),
                                         now(), None, essential=True)
    if isinstance(outcome, NotLinked):
        return _page(refused, f"{professional.display_name} (RPPS {professional.rpps or professional.idnat}) n'a pas de compte actif sur ce "
                              "chariot : demandez à un administrateur de lier votre RPPS à votre compte.")
    response = web.HTTPSeeOther("/#/activite")
    assert outcome.token is not None
    give_session_cookie(response, request, outcome.token)
    return response


async def _into_the_dossier(request: web.Request, ref: str, who: psc.PscIdentity) -> web.StreamResponse:
    """A consulted doctor came back from Pro Santé Connect: their link's dossier opens as the code
    would have opened it, if they are the doctor the link was sent to."""
    services = services_of(request)
    room, token = ref.split("/", 1)
    try:
        session_token, guest = await services.store.write(
            specialist_access.open_session_by_psc, room, token, who.professional.rpps, datetime.now(UTC),
            services.config.dossiers.report_window_hours, request.remote, essential=True)
    except AccessRefused as refusal:
        return _page("Accès au télédossier refusé", MESSAGES[refusal.code][1])
    except LinkRefused:
        return _page("Accès au télédossier refusé", "Ce lien n'ouvre plus le télédossier (révoqué, ou hors de ses dates).")
    response = web.HTTPSeeOther(f"/s/{room}/{token}?vue=dossier")
    give_link_cookie(response, request, session_token, room, token, guest)
    return response


def install(app: web.Application) -> None:
    app.router.add_get(PATH, back_from_psc)
