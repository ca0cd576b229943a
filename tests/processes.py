"""Ending the servers the tests start (coturn, Janus, the demo agent): asked politely, then killed."""

from __future__ import annotations

import signal
import subprocess


def end(proc: subprocess.Popen, wait: float = 10.0) -> int:
    """SIGTERM, `wait` seconds for it to exit, then SIGKILL; its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode
