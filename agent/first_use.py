"""Libraries the agent imports with their first use rather than at start (issue 16), imported in a
worker thread: a CPS card put in, a first mail or a PSC login during a call must not hold the
event loop (the call's pacing, every page) for the tens of milliseconds an import takes."""

from __future__ import annotations

import asyncio
import importlib
import sys


async def load(*modules: str) -> None:
    """`modules` imported, in a worker thread the first time; afterwards this returns at once."""
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in missing])
