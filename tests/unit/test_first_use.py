"""A library loaded with its first use is imported off the event loop, once."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest

from agent import first_use


def test_the_import_runs_in_a_worker_thread_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "heavy_library.py").write_text(
        "import threading, time\nIMPORTED_ON = threading.current_thread()\ntime.sleep(0.3)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "heavy_library", raising=False)

    async def main() -> tuple[threading.Thread, int]:
        ticks = 0

        async def loop_goes_on() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)
        ticking = asyncio.create_task(loop_goes_on())
        await first_use.load("heavy_library")
        ticking.cancel()
        return threading.current_thread(), ticks

    loop_thread, ticks = asyncio.run(main())
    heavy = sys.modules["heavy_library"]
    assert heavy.IMPORTED_ON is not loop_thread
    assert ticks >= 10, "the loop stood still during the import"
    asyncio.run(first_use.load("heavy_library"))
    assert sys.modules["heavy_library"] is heavy  # not imported again
