"""The connections the agent holds open for as long as a page is shown: WebSockets (the kiosk's
live vitals and call, each participant's room) and endless responses (the card reader's event
stream, the camera's MJPEG preview).
They end as soon as the agent stops or restarts to apply new settings, the sockets closed with
« going away » (1001): their pages learn it at once and reconnect to the agent that comes back,
and the stop does not wait out aiohttp's shutdown timeout (2 s, then 2 s more to cancel) for
handlers that would never end by themselves (aiohttp's documented graceful-shutdown pattern)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web


@dataclass
class _Streams:
    """The endless responses being written, and those the agent's stop has ended."""

    open: weakref.WeakSet[asyncio.Task[object]] = field(default_factory=weakref.WeakSet)
    ended: weakref.WeakSet[asyncio.Task[object]] = field(default_factory=weakref.WeakSet)


SOCKETS = web.AppKey("open_sockets", weakref.WeakSet[web.WebSocketResponse])
STREAMS = web.AppKey("endless_responses", _Streams)


async def accept_socket(request: web.Request, *, heartbeat: float, max_msg_size: int) -> web.WebSocketResponse:
    """The upgraded socket, closed by the agent's stop if it is still open then."""
    socket = web.WebSocketResponse(heartbeat=heartbeat, max_msg_size=max_msg_size)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    return socket


@contextlib.contextmanager
def endless(request: web.Request) -> Iterator[None]:
    """Around the writing loop of a response that never ends by itself: the agent's stop cancels
    the loop, the block ends there without an error and the handler goes on to finish its
    response. A cancellation from anyone else (aiohttp's own, past its timeout) goes through.

    Nothing in the block may swallow the cancellation: asyncio.wait_for (Python 3.11) returns what
    it awaited when that comes at the same moment as the cancellation, and the loop would go on
    until aiohttp cuts it; asyncio.timeout does not."""
    task = asyncio.current_task()
    assert task is not None
    streams = request.app[STREAMS]
    streams.open.add(task)
    try:
        yield
    except asyncio.CancelledError:
        if task not in streams.ended:
            raise
        task.uncancel()  # ours, consumed: the response's last writes must not be cancelled again
    finally:
        streams.open.discard(task)


async def _end_all(app: web.Application) -> None:
    streams = app[STREAMS]
    for task in list(streams.open):
        streams.ended.add(task)
        task.cancel()
    going = [s.close(code=WSCloseCode.GOING_AWAY, message="arrêt du chariot".encode()) for s in list(app[SOCKETS]) if not s.closed]
    await asyncio.gather(*going, return_exceptions=True)


def install(app: web.Application) -> None:
    app[SOCKETS] = weakref.WeakSet()
    app[STREAMS] = _Streams()
    app.on_shutdown.append(_end_all)
