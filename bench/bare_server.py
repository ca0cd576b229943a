"""The bare baseline: the smallest aiohttp server that answers like the agent, with nothing else.

    python bench/bare_server.py PORT [BODIES.json]

Imports only aiohttp and the standard library. Answers 200 at /healthz as soon as it listens and,
when given a JSON file mapping paths to bodies, answers GET on each path with that body, serialised
per request by `web.json_response` (as the agent's handlers do). No middlewares, no access log,
no database: what is left is the price of Python, aiohttp and the socket, which the agent pays too.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from aiohttp import web


def _json_handler(body: object):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    return handler


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def main(port: int, bodies: dict[str, object]) -> None:
    app = web.Application()
    app.router.add_get("/healthz", _healthz)
    for path, body in bodies.items():
        app.router.add_get(path, _json_handler(body))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    bodies: dict[str, object] = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            bodies = json.load(f)
    asyncio.run(main(int(sys.argv[1]), bodies))
