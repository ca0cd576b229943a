"""Readiness, metrics and the API's own description."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent import __version__
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
           absolute=True, content_type="text/plain")
async def metrics(call: Call) -> web.Response:
    services = services_of(call.request)
    await services.metrics.refresh(services.store)
    return web.Response(body=generate_latest(services.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


@API.route("GET", "/openapi.json", summary="Ce document OpenAPI", tags=("system",), access=PUBLIC)
async def openapi(call: Call) -> web.Response:
    return web.json_response(services_of(call.request).openapi_document)
