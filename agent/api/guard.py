"""Access checks run before every API handler: session, idle lock, role, CSRF, Origin.

CSRF defence in depth: the session cookie is SameSite=Strict, every state-changing request must
carry the session's token in the X-CSRF-Token header (a cross-site form cannot set headers), and a
foreign Origin header is refused outright. Refusals that concern access are audited.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

from agent import audit
from agent.access import sessions
from agent.access.rate_limits import LOOPBACK
from agent.access.roles import GRANTS, Permission, Role
from agent.access.sessions import Session
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.clock import now
from agent.links import specialist_access
from agent.links.specialist_access import Guest

SESSION_COOKIE = "telecart_session"
# Named anew when sessions became per link: a session cookie of the former name, set for the
# whole site, must not be read as this one.
GUEST_COOKIE = "telecart_link_session"
CSRF_HEADER = "X-CSRF-Token"
# Set on a request that came in on the HTTPS listener the network reaches (agent/api/server.py):
# there, a staff session passes only if it is a technician's (the technician's page).
OUTSIDE_REQUEST = "telecart.outside"
# Set by the kiosk's automatic refreshes: they must not count as a user's touch, or the kiosk
# would never lock itself.
BACKGROUND_HEADER = "X-Telecart-Background"


def give_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    """The staff session's cookie, however the person logged in (password, card, Pro Santé Connect)."""
    services = services_of(request)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=services.config.security.cookie_secure or request.secure, max_age=int(services.login_policy.session_seconds))


def give_link_cookie(response: web.StreamResponse, request: web.Request, token: str, room: str, link_token: str, guest: Guest) -> None:
    """A link session's cookie, scoped to that link's own API: a browser holding several links (two
    doctors on one computer, or one doctor asked about two residents) keeps one session per link,
    and each page only ever sends its own."""
    response.set_cookie(GUEST_COOKIE, token, httponly=True, samesite="Strict", path=f"/api/v1/links/{room}/{link_token}",
                        secure=services_of(request).config.security.cookie_secure or request.secure,
                        max_age=max(0, int(guest.expires_at - datetime.now(UTC).timestamp())))


async def _audit_refusal(request: web.Request, action: str, session: Session | None = None, detail: str | None = None) -> None:
    services = services_of(request)
    principal = session.principal if session else None
    event = audit.AuditEvent(
        actor=principal.login if principal else "anonyme", role=principal.role.value if principal else None,
        action=action, outcome=audit.DENIED, remote_addr=request.remote,
        detail=detail or f"{request.method} {request.path}",
    )
    await services.store.write(audit.append, event, essential=True)


def _origin_allowed(request: web.Request, origin: str) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:  # "http://[" and the like
        return False
    if parts.netloc == request.host:
        return True
    public = urlsplit(services_of(request).config.server.public_url)
    return (parts.scheme, parts.netloc) == (public.scheme, public.netloc)


async def check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    # "null" comes from sandboxed frames and file:// pages: never the kiosk.
    if origin and (origin == "null" or not _origin_allowed(request, origin)):
        await _audit_refusal(request, "access.origin", detail=f"{request.method} {request.path} (Origin {origin[:100]})")
        raise ApiError("origin_refused")


async def require_session(request: web.Request, allow_locked: bool) -> Session:
    services = services_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError("not_logged_in")
    moment = now()
    session = await services.store.read(sessions.find, token, None)
    if session is None:
        # A token we never issued (or long purged) is anonymous: refused, counted in /metrics, not
        # audited, so that made-up cookies cannot fill the disk with records.
        raise ApiError("session_expired")
    if session.expired(moment):
        await _audit_refusal(request, "session.expired", session)
        raise ApiError("session_expired")
    if session.idle_locked(moment, services.idle_lock_seconds):
        if not session.locked:
            p = session.principal
            event = audit.AuditEvent(actor=p.login, role=p.role.value, action="session.lock", remote_addr=request.remote, detail="inactivité")
            await services.store.write(sessions.lock, session.id, event, essential=True)
        if not allow_locked:
            raise ApiError("session_locked")
    elif request.headers.get(BACKGROUND_HEADER) != "1" and moment - session.last_active >= sessions.touch_interval(services.idle_lock_seconds):
        await services.store.write(sessions.touch, session, moment, essential=True)
    return session


async def require_technician_outside(request: web.Request, session: Session) -> None:
    """From the network, staff routes serve the technician's page only: any other role's session
    (however it got there) is refused, audited."""
    if request.get(OUTSIDE_REQUEST) and session.principal.role is not Role.TECHNICIAN:
        await _audit_refusal(request, "access.forbidden", session, f"{request.method} {request.path} : depuis le réseau")
        raise ApiError("technician_only")


async def require_permission(request: web.Request, session: Session, permission: Permission) -> None:
    if permission not in GRANTS[session.principal.role]:
        await _audit_refusal(request, "access.forbidden", session, f"{request.method} {request.path} : droit {permission.value} requis")
        raise ApiError("forbidden")


async def require_csrf(request: web.Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    # aiohttp hands undecodable header bytes over as surrogates: such a token is simply wrong.
    if not sent.isascii() or not hmac.compare_digest(sent.encode("ascii"), session.csrf_token.encode("ascii")):
        await _audit_refusal(request, "access.csrf", session)
        raise ApiError("csrf_missing")


def allowed_hosts(host: str, ports: list[int], public_url: str, extra: list[str]) -> frozenset[str]:
    """Host headers the agent answers on its ports (HTTP, HTTPS): loopback, its own address,
    public_url's host, and the configured extras. Anything else is a DNS-rebinding page
    pretending to be us."""
    names = {"127.0.0.1", "localhost", "[::1]", *extra}
    if host not in ("0.0.0.0", "::"):
        names.add(host)
    hosts = {f"{name}:{port}" for name in names for port in ports if port} | {name for name in extra}
    public = urlsplit(public_url)
    if public.netloc:
        hosts.add(public.netloc)
    return frozenset(hosts)


def check_host(request: web.Request, hosts: frozenset[str]) -> None:
    if request.host not in hosts:
        raise ApiError("host_refused")


async def require_guest(request: web.Request, needs_csrf: bool) -> Guest:
    """A specialist's link session (agent/specialist_access.py): live, not revoked, opened from
    the very link in the request's path (never another dossier's session the browser also
    holds), and for state-changing requests carrying its CSRF token."""
    guest = await _link_session(request, touch=True)
    if needs_csrf:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent.isascii() or not hmac.compare_digest(sent.encode("ascii"), guest.csrf_token.encode("ascii")):
            raise ApiError("csrf_missing")
    return guest


async def peek_guest(request: web.Request) -> Guest:
    """The same link session as `require_guest`, without counting the request as its use: for a
    page's automatic questions, which must not keep a page left alone open."""
    return await _link_session(request, touch=False)


async def _link_session(request: web.Request, touch: bool) -> Guest:
    token = request.cookies.get(GUEST_COOKIE)
    if not token:
        raise ApiError("link_session_missing")
    services = services_of(request)
    args = (token, datetime.now(UTC), services.config.dossiers.report_window_hours, services.idle_lock_seconds)
    guest = (await services.store.write(specialist_access.find, *args, essential=True) if touch
             else await services.store.read(specialist_access.peek, *args))
    if guest is None or not guest.opened_from(request.match_info["room"], request.match_info["token"]):
        raise ApiError("link_session_missing")
    return guest


def unattended_screen(request: web.Request) -> bool:
    """The cart's own screen with nobody logged in, on a cart that answers by itself: it may show the
    participants of the call (their faces and the chat, nothing of the dossier), or the resident
    would hear a doctor they cannot see."""
    services = services_of(request)
    return (services.config.call.auto_answer and request.remote in LOOPBACK
            and request.host.split(":")[0] in ("127.0.0.1", "localhost", "[::1]"))
