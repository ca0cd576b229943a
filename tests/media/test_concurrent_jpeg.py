"""The preview's and a snapshot's JPEGs are made at once, in executor threads, from the same
published frame: each thread converts with its own swscale context. Through the one PyAV caches
on the frame (`frame.reformat()`, `to_image()`), this crashed the agent (a segfault in libswscale
during a call's photo, or a hang). Run in a process of its own: a crash must fail the test, not
the test run."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading, av, numpy as np
from agent.devices.cameras import _jpeg
from agent.media.frames import Captured
rgb = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
captured = Captured(seq=1, frame=av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj422p"), wall_time=0.0, camera="room")
sizes = set()
def work(i):
    for _ in range(120):
        sizes.add(len(_jpeg(captured, 70, 640 if i % 2 else None)) > 1000)
threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sizes == {True})
"""


def test_jpegs_of_one_frame_made_in_six_threads_at_once_do_not_crash_the_agent() -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip() == "True"
