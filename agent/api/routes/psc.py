"""Pro Santé Connect (agent/access/psc.py): the start of a login at the kiosk (the cart's own screen
only), or of a consulted doctor's way into their link's dossier. The provider sends the browser
back to /psc/retour (agent/api/psc_return.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from agent.access import psc
from agent.access.rate_limits import LOOPBACK, Door
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.join_page import refusal_text
from agent.api.registry import API
from agent.api.routing import PUBLIC, Call
from agent.clock import now
from agent.links import specialist_access
from agent.links.invitation import LinkRefused


class PscStart(BaseModel):
    url: str


class LoginWays(BaseModel):
    psc: bool = Field(description="« Se connecter avec Pro Santé Connect » is offered")
    code_by: list[str] = Field(description="Where a login code may be sent on request: sms, email")


@API.route("GET", "/login-ways", summary="Les façons de se connecter que le chariot propose (pour l'écran de connexion)",
           tags=("session",), access=PUBLIC, response=LoginWays)
async def login_ways(call: Call) -> LoginWays:
    config = services_of(call.request).config
    return LoginWays(psc=config.psc.enabled, code_by=[f for f in config.security.second_factors if f in ("sms", "email")])


@API.route("GET", "/psc/start", summary="Commencer une connexion Pro Santé Connect (l'adresse de la page du fournisseur)",
           tags=("session",), access=PUBLIC, response=PscStart, errors=(403, 409, 503))
async def start(call: Call) -> PscStart:
    services = services_of(call.request)
    if call.request.remote not in LOOPBACK:
        raise ApiError("psc_kiosk_only")
    if not services.config.psc.enabled:
        raise ApiError("psc_off")
    services.rate_limits.knock(Door.LOGIN, call.remote_addr)
    return await _provider_page(call, "kiosk")


async def _provider_page(call: Call, purpose: str, ref: str | None = None) -> PscStart:
    """A flow kept on the cart, and the provider's page that begins it."""
    services = services_of(call.request)
    flow = await services.store.write(psc.start_flow, purpose, now(), ref, essential=True)
    try:
        return PscStart(url=await services.psc.authorization_url(flow))
    except psc.PscRefused as refused:
        raise ApiError("psc_unavailable", reason=str(refused)) from None


class LinkWays(BaseModel):
    psc: bool = Field(description="The doctor may open the dossier with Pro Santé Connect instead of a code")


@API.route("GET", "/links/{room}/{token}/ways", summary="Les façons d'ouvrir le télédossier depuis ce lien (code, Pro Santé Connect)",
           tags=("specialist",), access=PUBLIC, response=LinkWays)
async def link_ways(call: Call) -> LinkWays:
    return LinkWays(psc=services_of(call.request).config.psc.enabled)


@API.route("GET", "/links/{room}/{token}/psc/start", summary="Ouvrir le télédossier avec Pro Santé Connect (l'adresse de la page du fournisseur)",
           tags=("specialist",), access=PUBLIC, response=PscStart, errors=(403, 409, 503))
async def start_from_link(call: Call) -> PscStart:
    services = services_of(call.request)
    if not services.config.psc.enabled:
        raise ApiError("psc_off")
    match = call.request.match_info
    services.rate_limits.knock(Door.CODE_SENT, call.remote_addr)
    try:  # a forged or dead link starts nothing
        await services.store.read(specialist_access.admitted, match["room"], match["token"], datetime.now(UTC),
                                  services.config.dossiers.report_window_hours)
    except LinkRefused as exc:
        raise ApiError("link_refused", reason=refusal_text(exc, services.dossier_settings.zone)) from exc
    return await _provider_page(call, "link", f"{match['room']}/{match['token']}")
