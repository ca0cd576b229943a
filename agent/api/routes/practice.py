"""The practice mode (agent/practice/): the real kiosk asks for it and jumps to the practice
kiosk with a one-time code; the practice kiosk says on every screen where it is, and leaves."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agent.access import accounts, sessions
from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import give_session_cookie
from agent.api.registry import API
from agent.api.routes.session import session_out
from agent.api.routing import PUBLIC, Call, json_dumps
from agent.api.schemas.practice import EntryIn, PracticeEntryOut, PracticeLeftOut, PracticeOut, RealCallersOut
from agent.api.schemas.session import SessionOut
from agent.clock import now
from agent.practice.mode import Practice

_TAGS = ("entraînement",)
LEAVE_AFTER = 0.3  # seconds: the answer reaches the kiosk before its server stops
_LEAVING: set[asyncio.Task[None]] = set()  # held until done (the loop keeps only weak references)


def _leave(practice: Practice) -> None:
    task = asyncio.get_running_loop().create_task(practice.leave())
    _LEAVING.add(task)
    task.add_done_callback(_LEAVING.discard)


@API.route("GET", "/practice", summary="Le mode entraînement : sommes-nous dedans, est-il proposé, en cours ?", tags=_TAGS,
           access=PUBLIC, response=PracticeOut)
async def practice_state(call: Call) -> PracticeOut:
    services = services_of(call.request)
    practice = services.practice
    inside = services.in_practice and practice is not None
    return PracticeOut(inside=services.in_practice, offered=practice is not None and not services.in_practice,
                       active=practice is not None and practice.active, idle_seconds=practice.idle_seconds if inside else None,
                       back_to=(practice.back_to or "/") if inside else None)


@API.route("GET", "/practice/real-callers", summary="Dans l'entraînement : qui attend le chariot dans une vraie salle", tags=_TAGS,
           response=RealCallersOut, allow_locked=True, errors=(409,))
async def real_callers(call: Call) -> RealCallersOut:
    """A real doctor must not wait unseen while the nurse practises: the practice strip asks this
    every few seconds and says who waits."""
    services = services_of(call.request)
    if not services.in_practice or services.practice is None:
        raise ApiError("practice_not_inside")
    return RealCallersOut(names=services.practice.real_callers())


@API.route("POST", "/practice", summary="Commencer (ou reprendre) l'entraînement : l'adresse du kiosque d'entraînement, à usage unique",
           tags=_TAGS, access=Permission.HEALTH_WRITE, response=PracticeEntryOut, status=201, errors=(404, 409))
async def enter_practice(call: Call) -> PracticeEntryOut:
    services = services_of(call.request)
    if services.in_practice:
        raise ApiError("practice_already")
    if services.practice is None:
        raise ApiError("practice_off")
    assert call.session is not None
    account = await services.store.read(accounts.find_by_login, call.session.principal.login)
    if account is None:
        raise ApiError("session_expired")
    url = await services.practice.enter(account, back_to=f"{call.request.scheme}://{call.request.host}/")
    return PracticeEntryOut(url=url)


@API.route("POST", "/practice/enter", summary="Entrer dans le kiosque d'entraînement avec le code à usage unique (la session s'ouvre)",
           tags=_TAGS, access=PUBLIC, body=EntryIn, response=SessionOut, status=201, errors=(401, 409))
async def practice_entry(call: Call) -> web.Response:
    """The practice kiosk's first request: the code came in its address's fragment (never in a log).
    An expired one leads to the practice's login screen, where her own password works (her account
    was copied in)."""
    services = services_of(call.request)
    if not services.in_practice or services.practice is None:
        raise ApiError("practice_not_inside")
    login = services.practice.take_entry(call.body.code)
    principal = await services.practice.principal(login) if login else None
    if principal is None:
        raise ApiError("practice_code_expired")
    token, session = await services.store.write(sessions.open_session, principal, "practice", call.remote_addr, now(),
                                                services.login_policy.session_seconds, essential=True)
    response = web.json_response(session_out(call.request, session).model_dump(mode="json"), status=201, dumps=json_dumps)
    give_session_cookie(response, call.request, token)
    return response


@API.route("POST", "/practice/leave", summary="Quitter l'entraînement : tout ce qu'il a gardé est effacé", tags=_TAGS,
           access=PUBLIC, response=PracticeLeftOut, errors=(409,))
async def leave_practice(call: Call) -> PracticeLeftOut:
    """Open to the practice's login screen too (whoever stands at the cart can end a practice: it
    holds nothing real); the practice agent stops once this answer is sent."""
    services = services_of(call.request)
    practice = services.practice
    if not services.in_practice or practice is None:
        raise ApiError("practice_not_inside")
    asyncio.get_running_loop().call_later(LEAVE_AFTER, _leave, practice)
    return PracticeLeftOut(back_to=practice.back_to or "/")
