"""Login, lookup, lock, unlock and logout of the kiosk session."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from agent import audit
from agent.access import accounts, login, sessions, staff_codes
from agent.access.login import LoginPolicy, Outcome, Refusal
from agent.access.rate_limits import Door
from agent.access.roles import GRANTS, LABELS_FR
from agent.access.sessions import Session
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import SESSION_COOKIE, give_session_cookie
from agent.api.registry import API
from agent.api.routing import PUBLIC, Call, json_dumps
from agent.api.schemas.session import LockQuery, LoginCodeRequest, LoginCodeSent, LoginRequest, SessionOut, UnlockRequest, UserOut
from agent.clock import now


def session_out(request: web.Request, session: Session) -> SessionOut:
    services = services_of(request)
    p = session.principal
    return SessionOut(
        user=UserOut(login=p.login, display_name=p.display_name, role=p.role, role_label=LABELS_FR[p.role],
                     permissions=sorted(perm.value for perm in GRANTS[p.role])),
        method=session.method,
        csrf_token=session.csrf_token,
        locked=session.idle_locked(now(), services.idle_lock_seconds),
        idle_lock_seconds=services.idle_lock_seconds,
        expires_at=session.expires_at,
        patient_payment=services.config.dossiers.patient_payment,
    )


async def _checked(call: Call, login_name: str, password: str, code: str, moment: float) -> tuple[dict | None, login.Checked]:
    """The account of `login_name` and what its password (and code) are worth; the rate limit first."""
    services = services_of(call.request)
    services.rate_limits.knock(Door.LOGIN, call.remote_addr)
    row = await services.store.read(accounts.find_by_login, login_name)
    # Each check holds 64 MiB for ~50 ms: a flood of logins queues here instead of eating memory.
    async with services.password_checks:
        checked = await asyncio.get_running_loop().run_in_executor(
            None, login.verify_credentials, row, password, code, services.login_policy.otp_window, moment
        )
    return row, checked


async def attempt(call: Call, login_name: str, password: str, code: str, action: str, session_id: str | None,
                  roles: frozenset[str] | None = None) -> Outcome:
    """A login (or unlock) attempt, recorded; refused as ApiError. `roles`: the only ones let in."""
    services = services_of(call.request)
    policy: LoginPolicy = services.login_policy
    moment = now()
    _, checked = await _checked(call, login_name, password, code, moment)
    outcome = await services.store.write(login.conclude, login_name, checked, code, call.remote_addr, policy, moment, action, session_id,
                                      roles, essential=True)
    services.metrics.logins.labels(outcome=outcome.refusal.value if outcome.refusal else "success").inc()
    _refuse(outcome)
    return outcome


def _refuse(outcome: Outcome) -> None:
    if outcome.refusal is Refusal.ACCOUNT_LOCKED:
        seconds = math.ceil(outcome.retry_after or 60)
        raise ApiError("account_locked", minutes=max(1, math.ceil(seconds / 60)), headers={"Retry-After": str(seconds)})
    if outcome.refusal is not None:
        raise ApiError(outcome.refusal.value)


@API.route("POST", "/session", summary="Se connecter (identifiant, mot de passe et code à usage unique)",
           tags=("session",), access=PUBLIC, body=LoginRequest, response=SessionOut, status=201, errors=(401, 423, 429))
async def create_session(call: Call) -> web.Response:
    body: LoginRequest = call.body
    outcome = await attempt(call, body.login.strip().lower(), body.password, body.otp, "login", None)
    assert outcome.session is not None and outcome.token is not None
    response = web.json_response(session_out(call.request, outcome.session).model_dump(mode="json"), status=201, dumps=json_dumps)
    give_session_cookie(response, call.request, outcome.token)
    return response


@API.route("POST", "/session/code", summary="Recevoir un code de connexion par SMS ou par e-mail (après l'identifiant et le mot de passe)",
           tags=("session",), access=PUBLIC, body=LoginCodeRequest, response=LoginCodeSent, status=202, errors=(401, 409, 423, 429))
async def send_login_code(call: Call) -> LoginCodeSent:
    """The password is checked as at login (a wrong one counts towards the account's lockout)
    before anything is sent: nobody can flood a colleague's phone with codes."""
    body: LoginCodeRequest = call.body
    services = services_of(call.request)
    login_name = body.login.strip().lower()
    moment = now()
    row, checked = await _checked(call, login_name, body.password, "", moment)
    if not checked.password_ok:
        outcome = await services.store.write(login.conclude, login_name, checked, "", call.remote_addr,
                                             services.login_policy, moment, "login.code", None, essential=True)
        _refuse(outcome)
    assert row is not None
    sent = await services.store.write(staff_codes.send, row, body.channel, now(), services.config.dossiers.establishment,
                                      services.config.security.second_factors, call.remote_addr, essential=True)
    services.deliveries_wake()
    return LoginCodeSent(**sent)


@API.route("GET", "/session", summary="Session en cours (utilisateur, jeton CSRF, verrouillage)",
           tags=("session",), response=SessionOut, allow_locked=True)
async def read_session(call: Call) -> SessionOut:
    assert call.session is not None
    return session_out(call.request, call.session)


@API.route("POST", "/session/lock", summary="Verrouiller le poste", tags=("session",), query=LockQuery, status=204,
           allow_locked=True)
async def lock_session(call: Call) -> None:
    assert call.session is not None
    services = services_of(call.request)
    p = call.session.principal
    query: LockQuery = call.query
    detail = "inactivité" if query.reason == "idle" else "manuel"
    event = audit.AuditEvent(actor=p.login, role=p.role.value, action="session.lock", remote_addr=call.remote_addr, detail=detail)
    await services.store.write(sessions.lock, call.session.id, event, essential=True)


@API.route("POST", "/session/unlock", summary="Déverrouiller le poste (même utilisateur)", tags=("session",),
           body=UnlockRequest, response=SessionOut, allow_locked=True, errors=(401, 423, 429))
async def unlock_session(call: Call) -> SessionOut:
    assert call.session is not None
    body: UnlockRequest = call.body
    await attempt(call, call.session.principal.login, body.password, body.otp, "session.unlock", call.session.id)
    services = services_of(call.request)
    token = call.request.cookies[SESSION_COOKIE]
    fresh = await services.store.read(sessions.find, token, now())
    if fresh is None:
        raise ApiError("session_expired")
    return session_out(call.request, fresh)


@API.route("DELETE", "/session", summary="Se déconnecter", tags=("session",), status=204, allow_locked=True)
async def delete_session(call: Call) -> web.Response:
    assert call.session is not None
    services = services_of(call.request)
    p = call.session.principal
    event = audit.AuditEvent(actor=p.login, role=p.role.value, action="logout", remote_addr=call.remote_addr)
    await services.store.write(sessions.close, call.session.id, event, essential=True)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
