"""No asyncio.wait_for in the product's code. On Python 3.11 (Debian 12's), wait_for returns what
it awaited when that completes in the same turn of the loop as a cancellation of the task, and
the cancellation is lost: a loop the agent's stop cancels goes on (the delivery queue's and the
sync's waits for a wake, a camera's next frame, a glucose meter's answer), and the stop waits for
it for ever. asyncio.timeout tells its own time-out from a cancellation; it is what we use.
tests/notify/test_queue.py and tests/media/test_frames.py show the lost stop."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_wait_for_in_the_agent_drivers_or_sync() -> None:
    found = []
    for path in sorted(p for pkg in ("agent", "drivers", "cloud_sync") for p in (ROOT / pkg).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "wait_for" and isinstance(node.value, ast.Name) and node.value.id == "asyncio":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "asyncio.wait_for may drop a cancellation on Python 3.11: use asyncio.timeout"
