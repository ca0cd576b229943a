"""The page an invitation link opens (`/s/{room}/{token}`), for people outside the cart: the
specialist, a relative, another professional. No session, no kiosk script: a small server-made
page in French that says when the room opens, or why the link does not open it.

The video room itself comes with the call; until then a genuine link within its window shows the
room as open. Every opening of a link the cart issued is audited, whatever its outcome; a made-up
link is refused and counted in /metrics (`telecart_links_forged`), never audited, so forged links
cannot fill the disk.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiohttp import web

from agent.api.context import services_of
from agent.api.responses import NO_STORE, message_page
from agent.clock import clock_time, long_date
from agent.links import invitation, specialist_access
from agent.links.invitation import Admission, LinkRefused, Refusal

# reason -> (HTTP status, title, explanation)
_REFUSALS: dict[Refusal, tuple[int, str, str]] = {
    Refusal.MALFORMED: (404, "Lien incomplet", "Ce lien d'invitation est incomplet ou a été modifié. Ouvrez-le à nouveau depuis le message reçu, en entier."),
    Refusal.FORGED: (404, "Lien inconnu", "Ce lien d'invitation n'est pas reconnu par le chariot. Vérifiez qu'il a été copié en entier, ou demandez une nouvelle invitation à l'établissement."),
    Refusal.OTHER_ROOM: (403, "Lien d'une autre salle", "Ce lien d'invitation ne correspond pas à cette salle de téléconsultation. Ouvrez le lien exact reçu par e-mail ou SMS."),
    Refusal.REVOKED: (403, "Invitation annulée", "L'établissement a annulé cette invitation. Si vous devez participer, demandez-lui de vous inviter à nouveau."),
    Refusal.CLOSED: (410, "Salle fermée", "La salle de téléconsultation est fermée depuis le {closes}. Pour une nouvelle téléconsultation, l'établissement vous enverra une nouvelle invitation."),
}


def refusal_text(refused: LinkRefused, zone: ZoneInfo) -> str:
    """Why a link does not open, in French (for the API's JSON errors too)."""
    if refused.reason is Refusal.NOT_YET:
        return "La salle n'est pas encore ouverte : le télédossier s'ouvrira avec elle."
    _, _, text = _REFUSALS[refused.reason]
    closes = _moment(refused.admission.window.closes_at, zone) if refused.admission else ""
    return text.format(closes=closes)


def _page(status: int, title: str, paragraphs: list[str], establishment: str) -> web.Response:
    return message_page(status, f"{establishment} · Téléconsultation", title, "".join(f"<p>{p}</p>" for p in paragraphs))


def _moment(moment: datetime, zone) -> str:  # noqa: ANN001
    return f"{long_date(moment, zone)} à {clock_time(moment, zone)}"


async def landing(request: web.Request) -> web.Response:
    services = services_of(request)
    settings = services.dossier_settings
    room_id, token = request.match_info["room"], request.match_info["token"]
    now = datetime.now(UTC)

    check = partial(invitation.open_link, opened="lien ouvert, salle ouverte", refused="lien refusé", early_is_denied=False)
    outcome = await services.store.write(check, room_id, token, now, request.remote, essential=True)
    if isinstance(outcome, LinkRefused) and outcome.admission is None:
        services.metrics.forged_links.labels("join").inc()
    zone = settings.zone
    admission = outcome if isinstance(outcome, Admission) else outcome.admission
    late = isinstance(outcome, LinkRefused) and outcome.reason is Refusal.CLOSED
    specialist = admission is not None and admission.role is invitation.ParticipantRole.SPECIALIST and admission.dossier_id
    # Seed 001: the consulted doctor lands on the dossier (its code, then the resident, the reason,
    # « Rejoindre l'appel »); `?vue=appel` opens the call itself.
    wants_call = request.query.get("vue") == "appel"
    if specialist and ((isinstance(outcome, Admission) and not wants_call) or (late and specialist_access.access_window(
            admission, services.config.dossiers.report_window_hours).contains(now))):
        return _specialist_shell(settings.establishment)
    if isinstance(outcome, Admission):
        services.calls.load_media()  # while they check their camera: their connection then finds it loaded
        lobby = services.config.call.lobby and outcome.role is not invitation.ParticipantRole.SPECIALIST
        return _room_shell(outcome, request.path, settings.establishment, bool(specialist), lobby)
    if outcome.reason is Refusal.NOT_YET and outcome.admission:
        window = outcome.admission.window
        return _page(200, "La salle n'est pas encore ouverte", [
            f"Bonjour{_name(outcome.admission)}. La salle de téléconsultation ouvrira le "
            f"<strong>{html.escape(_moment(window.opens_at, zone))}</strong> et restera ouverte jusqu'à "
            f"{html.escape(clock_time(window.closes_at, zone))}.",
            "Revenez sur ce lien à ce moment-là, depuis un ordinateur, une tablette ou un smartphone équipé d'une caméra et d'un micro.",
        ], settings.establishment)
    status, title, text = _REFUSALS[outcome.reason]
    closes = _moment(outcome.admission.window.closes_at, zone) if outcome.admission else ""
    return _page(status, title, [html.escape(text.format(closes=closes))], settings.establishment)


def _room_shell(admission: Admission, link: str, establishment: str, specialist: bool, lobby: bool) -> web.Response:
    """The call (kiosk_ui/static/call/join.js): a camera and microphone check (and, for whoever
    waits in the lobby, their name), then the room."""
    data = {"socket": f"{link}/ws", "role": admission.role.value, "name": invitation.display_name(admission),
            "lobby": "1" if lobby else None,
            "dossier-link": f"{link}?vue=dossier" if specialist else None,
            "documents": f"{link}/documents" if admission.dossier_id else None}
    attrs = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in data.items() if v)
    text = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Téléconsultation — {html.escape(establishment)}</title><link rel="stylesheet" href="/static/css/telecart.css"></head>
<body class="room-page"><header class="specialist-bar"><strong>{html.escape(establishment)}</strong> · Téléconsultation</header>
<main id="room" class="room-main" {attrs}><p>Chargement…</p></main><div id="toasts" class="toasts" aria-live="polite"></div>
<script type="module" src="/static/call/join.js"></script></body></html>"""
    return web.Response(text=text, content_type="text/html", charset="utf-8", headers=NO_STORE)


def _specialist_shell(establishment: str) -> web.Response:
    """The specialist's page: a one-time code, then the dossier (kiosk_ui/static/specialist/)."""
    text = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Télédossier — {html.escape(establishment)}</title><link rel="stylesheet" href="/static/css/telecart.css">
<link rel="stylesheet" href="/static/specialist/specialist.css"></head>
<body class="specialist"><header class="specialist-bar"><strong>{html.escape(establishment)}</strong> · Téléconsultation</header>
<main id="specialist" class="specialist-main"><p>Chargement…</p></main><div id="toasts" class="toasts" aria-live="polite"></div>
<script type="module" src="/static/specialist/app.js"></script></body></html>"""
    return web.Response(text=text, content_type="text/html", charset="utf-8", headers=NO_STORE)


def _name(admission: Admission) -> str:
    if not admission.name:
        return ""
    title = "Docteur " if admission.role is invitation.ParticipantRole.SPECIALIST else ""
    return html.escape(f" {title}{admission.first_name or ''} {admission.name.title()}".replace("  ", " ").rstrip())
