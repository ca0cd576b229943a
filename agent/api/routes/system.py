"""Readiness, metrics and the API's own description."""

from __future__ import annotations

import hmac
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent import __version__
from agent.access.rate_limits import LOOPBACK
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import PUBLIC, Call
from agent.api.schemas.common import Health


@API.route("GET", "/healthz", summary="Prêt ? 200 quand l'agent sert les requêtes", tags=("system",),
           access=PUBLIC, response=Health, absolute=True)
async def healthz(call: Call) -> Health:
    services = services_of(call.request)
    if not services.lifecycle.ready:
        raise ApiError("not_ready")
    return Health(status="ok", version=__version__, uptime_seconds=round(time.monotonic() - services.lifecycle.started, 3),
                  simulate=services.config.devices.simulate)


@API.route("GET", "/metrics", summary="Métriques au format texte Prometheus", tags=("system",), access=PUBLIC,
           absolute=True, content_type="text/plain", errors=(404,))
async def metrics(call: Call) -> web.Response:
    """Loopback only, unless the monitoring server elsewhere shows `[server] metrics_token`:
    the figures tell who is in a call and how busy the cart is."""
    services = services_of(call.request)
    token = services.config.server.metrics_token
    sent = call.request.headers.get("Authorization", "")
    if call.request.remote not in LOOPBACK and not (token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())):
        raise ApiError("route_not_found")
    await services.metrics.refresh(services.store)
    return web.Response(body=generate_latest(services.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


@API.route("GET", "/openapi.json", summary="Ce document OpenAPI", tags=("system",), access=PUBLIC)
async def openapi(call: Call) -> web.Response:
    return web.json_response(services_of(call.request).openapi_document())
