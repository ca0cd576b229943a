"""The aiohttp application: middlewares (errors, metrics, security headers), API routes, kiosk."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from agent.api import join_page, open_streams, psc_return, room_socket, share_page, vitals_socket
from agent.api.context import SERVICES, Services, services_of
from agent.api.errors import ApiError
from agent.api.guard import OUTSIDE_REQUEST, check_host
from agent.api.routes import API  # importing the package registers every route
from agent.api.routing import json_dumps
from agent.logs import fields
from agent.refusal import Refused
from agent.store import StorageFull
from agent.technician.discovery import local_addresses
from kiosk_ui import STATIC_DIR

log = logging.getLogger("agent.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_TO_CODE = {404: "route_not_found", 405: "method_not_allowed", 413: "payload_too_large"}

# Every asset is local (the cart is often offline), so the kiosk allows nothing from elsewhere.
_CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

_NOT_FOUND_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Page introuvable</title>
<link rel="stylesheet" href="/static/css/telecart.css"></head><body class="page-message">
<main class="card message"><h1>Page introuvable</h1><p>Cette adresse n'existe pas sur le chariot.</p>
<a class="button primary" href="/">Revenir à l'accueil</a></main></body></html>"""


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/metrics")


def _error_response(request: web.Request, error: ApiError) -> web.StreamResponse:
    if error.status == 404 and not _is_api(request):
        return web.Response(status=404, text=_NOT_FOUND_PAGE, content_type="text/html", charset="utf-8")
    return web.json_response(error.body(), status=error.status, headers=error.headers, dumps=json_dumps)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return _error_response(request, error)
    except Refused as refused:  # a domain rule: its code names the French message
        error = ApiError(refused.code, **refused.params)
        if (retry_after := getattr(refused, "retry_after", None)) is not None:  # a rate limit (access/rate_limits.py)
            error.headers["Retry-After"] = str(retry_after)
        return _error_response(request, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_TO_CODE.get(exc.status)
        if code is None:
            code = "internal" if exc.status >= 500 else "bad_request"
        error = ApiError(code)
        error.status = exc.status
        if "Allow" in exc.headers:  # a 405 names the methods that would work (RFC 9110)
            error.headers["Allow"] = exc.headers["Allow"]
        return _error_response(request, error)
    except StorageFull:
        log.error("write refused: disk full", extra=fields(event="storage_full", path=request.path))
        return _error_response(request, ApiError("storage_full"))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error", extra=fields(event="internal_error", path=request.path, method=request.method))
        return _error_response(request, ApiError("internal"))


# What people outside the cart open, and all the HTTPS listener serves (`[server] https_port`).
OUTSIDE_PATHS = ("/s/", "/d/", "/api/v1/links/", "/static/", "/healthz", "/psc/retour")
# The technician's page and its API (agent/api/routes/technician.py), when `[technician] page` is on,
# and the staff routes it uses for the devices (their own access checks apply; from outside, only a
# technician's session passes: routing.py).
TECHNICIAN_PATHS = ("/technicien", "/api/v1/tech/", "/api/v1/sensors", "/api/v1/bluetooth/", "/api/v1/cameras", "/api/v1/printers")



def from_outside(request: web.Request) -> bool:
    """Whether the request came in on the HTTPS listener that the network reaches."""
    https_port = services_of(request).config.server.https_port
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return bool(https_port) and bool(sockname) and sockname[1] == https_port


@web.middleware
async def exposure_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The kiosk and the staff API are not there for the network: on the outside listener, any
    other address is a page that does not exist."""
    if from_outside(request):
        if not request.path.startswith(OUTSIDE_PATHS) and not _technician_page(request):
            raise ApiError("route_not_found")
        request[OUTSIDE_REQUEST] = True
    return await handler(request)


def _technician_page(request: web.Request) -> bool:
    return request.path.startswith(TECHNICIAN_PATHS) and services_of(request).technician.enabled


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every response gets, streams and WebSockets included: no server version, and over
    TLS, HSTS (browsers come back over HTTPS only)."""
    response.headers["Server"] = "Telecart"
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A name the cart answers to. On its technician's page, also any of its own addresses of the
    moment (a technician types the address the cart's screen shows; a DHCP lease may change it): an
    address literal cannot be a rebinding attacker's domain."""
    services = request.app[SERVICES]
    if request.host not in services.allowed_hosts and not (  # the system's addresses asked only when the name is none of ours
            from_outside(request) and _technician_page(request) and _own_address(request.host, services.technician.https_port)):
        check_host(request, services.allowed_hosts)
    return await handler(request)


def _own_address(host: str, port: int) -> bool:
    address, _, given_port = host.rpartition(":")
    return given_port == str(port) and address in local_addresses([])


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics = request.app[SERVICES].metrics
    metrics.requests.labels(request.method, route, str(response.status)).inc()
    metrics.latency.labels(route).observe(time.perf_counter() - started)
    return response


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if _is_api(request):
        response.headers.setdefault("Cache-Control", "no-store")
    else:
        response.headers.setdefault("Content-Security-Policy", _CSP)
    return response


async def _kiosk(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _technician(request: web.Request) -> web.FileResponse:
    if not services_of(request).technician.enabled:
        raise ApiError("route_not_found")
    return web.FileResponse(STATIC_DIR / "technician" / "index.html", headers={"Cache-Control": "no-cache"})


_STATIC_ROOT = STATIC_DIR.resolve()


async def _static(request: web.Request) -> web.FileResponse:
    """Kiosk assets. Written out rather than aiohttp's add_static, whose 404 bypasses the error
    middleware (an empty octet-stream body the browser would download instead of our page)."""
    try:
        target = (_STATIC_ROOT / request.match_info["path"]).resolve()
        found = target.is_relative_to(_STATIC_ROOT) and target.is_file()
    except (OSError, ValueError):  # NUL bytes, names too long
        found = False
    if not found:
        raise ApiError("route_not_found")
    return web.FileResponse(target, headers={"Cache-Control": "no-cache"})


def build_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[headers_middleware, metrics_middleware, error_middleware, host_middleware, exposure_middleware],
        client_max_size=services.config.server.max_body_kib * 1024,
    )
    app[SERVICES] = services
    app.on_response_prepare.append(_on_prepare)
    API.install(app)
    app.router.add_get("/", _kiosk)
    app.router.add_get("/technicien", _technician)
    app.router.add_get("/static/{path:.+}", _static)
    app.router.add_get("/s/{room}/{token}", join_page.landing)
    share_page.install(app)
    psc_return.install(app)
    open_streams.install(app)
    room_socket.install(app)
    vitals_socket.install(app)
    return app
