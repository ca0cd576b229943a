"""Running the `telecart` command as an operator would: a separate process, exit code and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def telecart(*args: str | Path, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *map(str, args)], input=stdin, check=False,
                          capture_output=True, text=True, timeout=timeout)


def assert_plain_error(done: subprocess.CompletedProcess[str]) -> None:
    """Failed with a message for a person, not a Python traceback."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.stderr.strip(), "no message on stderr"
