"""agent/api/open_streams.py on a real aiohttp server in this process: a response that never ends by
itself (the card reader's events, the camera's preview) is ended by the server's stop, and its
handler finishes the response; a cancellation from anyone else still cancels it.

The server's shutdown timeout is an hour: without the stop ending the stream, cleanup would wait
it out, and the deadlines below (30 s) fail the test instead of hanging it."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from agent.api import open_streams
from tests.notify.servers import run_async

DEADLINE = 30


async def _serve(handler: web.Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    open_streams.install(app)
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, shutdown_timeout=3600)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/"


def _ticking(finished: asyncio.Event, tasks: list[asyncio.Task[object]]) -> web.Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        response = web.StreamResponse()
        await response.prepare(request)
        with open_streams.endless(request):
            while True:
                await response.write(b"tick\n")
                await asyncio.sleep(0.05)
        await asyncio.sleep(0)  # the handler's own awaits after the block are not cancelled again
        await response.write(b"fin\n")
        finished.set()
        return response
    return handler


def test_the_servers_stop_ends_an_endless_response_and_its_handler_finishes_it() -> None:
    async def scenario() -> bytes:
        finished = asyncio.Event()
        runner, url = await _serve(_ticking(finished, []))
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            assert await reply.content.readline() == b"tick\n"
            stopping = asyncio.create_task(runner.cleanup())
            rest = await asyncio.wait_for(reply.content.read(), DEADLINE)  # a cut stream raises ClientPayloadError
            await asyncio.wait_for(stopping, DEADLINE)
        assert finished.is_set()
        return rest

    assert run_async(scenario()).endswith(b"fin\n")


def test_a_cancellation_that_is_not_the_stops_still_cancels_the_handler() -> None:
    async def scenario() -> None:
        finished = asyncio.Event()
        tasks: list[asyncio.Task[object]] = []
        runner, url = await _serve(_ticking(finished, tasks))
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as reply:
                assert await reply.content.readline() == b"tick\n"
                tasks[0].cancel()
                try:
                    await asyncio.wait_for(reply.content.read(), DEADLINE)
                except aiohttp.ClientPayloadError:
                    pass  # the response cut short: what a cancelled handler leaves
                await asyncio.wait(tasks, timeout=DEADLINE)
                assert tasks[0].done() and not finished.is_set()
        finally:
            await asyncio.wait_for(runner.cleanup(), DEADLINE)

    run_async(scenario())
