"""A LiveAgent (tests/live.py) whose next process is started ahead, for the tests that restart the
agent again and again on the same data directory (tests/store/test_torture.py, the kills of
tests/sync/test_faults.py).

Nearly all of an agent's start is Python importing its modules (about 0.7 s of the 0.75 s): the same
for every start, and nothing of the data directory. So the process of the next start is launched
as soon as the current one is up; it imports what `telecart run` imports, then waits for a line on
its standard input; `start()` sends it that line, and only then does it run `telecart run` with
the very arguments LiveAgent gives it: reading the configuration, opening the data directory
(migrations, key, orphans, leftovers), listening. What a restart after a kill does with the data is
done after the kill, as with a cold start; the process is the agent's own, and it is killed with
SIGKILL as any other.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import tomli_w

from tests.live import LiveAgent, free_port

# What `python -m agent.cli run` imports before it reads anything (agent/cli.py: main, cmd_run), then
# the wait for the go; `main` then parses the same arguments a cold start gets.
WARM = """\
import sys
from agent import cli
cli._sqlite_utils_without_numpy()
import agent.app, agent.logs
if sys.stdin.readline() != "go\\n":
    sys.exit(0)
sys.stdin.close()
sys.exit(cli.main(sys.argv[1:]))
"""


@dataclass
class WarmAgent(LiveAgent):
    _next: subprocess.Popen[bytes] | None = None

    def _args(self) -> list[str]:
        args = ["run", "--simulate", "--data-dir", str(self.data_dir), "--port", str(self.port), "--https-port", str(self.https_port)]
        return args + (["--config", str(self.config)] if self.config else [])

    def _launch(self) -> subprocess.Popen[bytes]:
        self.log_path = self.data_dir.parent / f"agent-{self.port}.log"
        with open(self.log_path, "ab") as log:
            return subprocess.Popen([sys.executable, "-c", WARM, *self._args()], stdin=subprocess.PIPE, stdout=log, stderr=log,
                                    env={**os.environ, **self.env})

    def start(self, timeout: float = 20.0) -> WarmAgent:
        proc, self._next = self._next or self._launch(), None
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died importing: said below, with its log
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        self.proc = proc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"agent exited with {proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    self._next = self._launch()  # importing while this one runs
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.02)
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"agent not ready after {timeout}s:\n{self.log()}")

    def discard(self) -> None:
        """The process started ahead and never used ends (its standard input closed)."""
        if self._next is not None:
            assert self._next.stdin is not None
            self._next.stdin.close()
            try:
                self._next.wait(10)
            except subprocess.TimeoutExpired:
                self._next.kill()
                self._next.wait()
            self._next = None


@contextlib.contextmanager
def running_warm_agent(root: Path, data_dir: Path, **sections: dict[str, Any]) -> Iterator[WarmAgent]:
    """tests/live.py's `running_agent` on an existing data directory, as a WarmAgent: stopped on
    exit, and its process started ahead, if any, ended."""
    config = None
    if sections:
        config = root / f"telecart-{uuid.uuid4().hex[:8]}.toml"
        config.write_text(tomli_w.dumps(sections), encoding="utf-8")
    agent = WarmAgent(data_dir, free_port(), config=config)
    try:
        yield agent.start()
    finally:
        agent.discard()
        if agent.proc is not None:
            agent.stop()
