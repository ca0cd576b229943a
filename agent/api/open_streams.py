"""The connections the agent holds open for as long as a page is shown: WebSockets (the kiosk's
live vitals and call, each participant's room) and event streams (the card reader's changes).
They end as soon as the agent stops or restarts to apply new settings, the sockets closed with
« going away » (1001): their pages learn it at once and reconnect to the agent that comes back,
and the stop does not wait out aiohttp's shutdown timeout (2 s, then 2 s more to cancel) for
handlers that would never end by themselves (aiohttp's documented graceful-shutdown pattern)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator

from aiohttp import WSCloseCode, web

SOCKETS = web.AppKey("open_sockets", weakref.WeakSet[web.WebSocketResponse])
STREAMS = web.AppKey("open_event_streams", weakref.WeakSet[asyncio.Task[object]])


async def accept_socket(request: web.Request, *, heartbeat: float, max_msg_size: int) -> web.WebSocketResponse:
    """The upgraded socket, closed by the agent's stop if it is still open then."""
    socket = web.WebSocketResponse(heartbeat=heartbeat, max_msg_size=max_msg_size)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    return socket


@contextlib.contextmanager
def event_stream(request: web.Request) -> Iterator[None]:
    """Around the writing loop of a text/event-stream: the agent's stop cancels it (the handler
    takes the CancelledError as the end of its stream)."""
    task = asyncio.current_task()
    assert task is not None
    request.app[STREAMS].add(task)
    try:
        yield
    finally:
        request.app[STREAMS].discard(task)


async def _end_all(app: web.Application) -> None:
    for task in list(app[STREAMS]):
        task.cancel()
    going = [s.close(code=WSCloseCode.GOING_AWAY, message="arrêt du chariot".encode()) for s in list(app[SOCKETS]) if not s.closed]
    await asyncio.gather(*going, return_exceptions=True)


def install(app: web.Application) -> None:
    app[SOCKETS] = weakref.WeakSet()
    app[STREAMS] = weakref.WeakSet()
    app.on_shutdown.append(_end_all)
