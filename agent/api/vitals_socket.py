"""`/ws/vitals`: the sensors' events pushed to the kiosk as they arrive (each value, the pleth
waveform, a sensor's state, a value now steady enough to record). The first message is the whole
live picture (an object), so a screen that (re)connects needs no other request; then each message
is a list of the events that queued up since the last one was sent.

A kiosk that reads slowly loses the oldest events (agent/devices/sensors.py), never the agent's
pace; what it sends is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from agent.access.roles import Permission
from agent.api import guard, open_streams
from agent.api.context import services_of
from agent.api.routing import json_dumps

HEARTBEAT_SECONDS = 15.0


async def vitals_socket(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    await guard.check_origin(request)
    session = await guard.require_session(request, allow_locked=False)
    await guard.require_permission(request, session, Permission.HEALTH_READ)
    hub = services.devices.sensors
    socket = await open_streams.accept_socket(request, heartbeat=HEARTBEAT_SECONDS, max_msg_size=4096)
    queue = hub.listen()
    reading = asyncio.get_running_loop().create_task(_drain(socket, queue))
    try:
        await socket.send_str(json_dumps({"type": "live", **hub.live()}))
        while (event := await queue.get()) is not None:
            # What has queued up while the last send went goes as one message (no waiting for more:
            # waiting 5 ms cost latency and saved no CPU, bench/README.md).
            batch, closed = [event], False
            while not queue.empty() and not closed:
                more = queue.get_nowait()
                closed = more is None
                if more is not None:
                    batch.append(more)
            await socket.send_str(json_dumps(batch))
            if closed:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.forget(queue)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    return socket


async def _drain(socket: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Reads (and drops) what the browser sends; its close ends the sending loop (None)."""
    async for _ in socket:
        pass
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(None)


def install(app: web.Application) -> None:
    app.router.add_get("/ws/vitals", vitals_socket)
