"""An ASGI app of a test's (the FHIR server, the upload server) served by uvicorn in a process of
its own on 127.0.0.1: started in its own session, quiet (warnings and errors only, to its log),
ready once `ready()` says so, stopped with its children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests


def start(app: str, port: int, cwd: Path, env: dict[str, str], log_path: Path, ready: Callable[[], bool],
          timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """`app`: uvicorn's `module:factory`, called with no argument (it reads `env`)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if ready():
                return proc
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"{app} not ready after {timeout}s:\n{log_path.read_text(errors='replace')[-4000:]}")


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM to its session, SIGKILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
