"""What the agent loads to start (issue 16, "The agent's weight"): not the call's media stack.

aiortc, PyAV and numpy are most of the agent's memory and a good part of its start-up; they come
with the first call or camera preview (agent/call/calls.py `load_media`, agent/devices/cameras.py),
never with the start or the kiosk's ordinary reads. Checked on the real command, `telecart run
--simulate`, by the shared libraries its process has mapped (/proc/PID/maps): a pure-Python import
check in this test process would see the test's own imports. And the `telecart` commands that do
not run the agent do not import it (agent/cli.py), checked in fresh interpreters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.live import LiveAgent, free_port

# A package's compiled modules, as /proc/PID/maps names them: av (PyAV and its FFmpeg), numpy,
# pylibsrtp (aiortc's SRTP, loaded with aiortc itself).
MEDIA = ("av", "av.libs", "numpy", "numpy.libs", "pylibsrtp")


def mapped_packages(pid: int) -> set[str]:
    """The site-packages directories whose shared libraries the process has mapped."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[-1]
        if "/site-packages/" in path and (path.endswith(".so") or ".so." in path):
            found.add(path.split("/site-packages/", 1)[1].split("/", 1)[0])
    return found


def test_the_agent_starts_and_serves_the_kiosk_without_the_media_stack_which_the_preview_loads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    agent = LiveAgent(data_dir, free_port()).start()
    try:
        assert agent.proc is not None
        nurse = agent.login(agent.add_account())
        for path in ("/api/v1/session", "/api/v1/patients?limit=20", "/api/v1/dossiers", "/api/v1/cameras", "/"):
            assert nurse.get(agent.url + path, timeout=10).status_code == 200, path
        assert not mapped_packages(agent.proc.pid) & set(MEDIA), "loaded before any call or preview"

        # The first preview loads what it needs (PyAV's frames, the simulated camera's numpy).
        with nurse.get(agent.url + "/api/v1/cameras/preview", stream=True, timeout=20) as reply:
            assert reply.status_code == 200
            first = next(reply.iter_content(chunk_size=4096))
            assert b"Content-Type: image/jpeg" in first
        assert {"av", "numpy"} <= mapped_packages(agent.proc.pid)
    finally:
        agent.stop()


CLI_IMPORTS = """
import json, sys
from agent.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "loaded": sorted(m for m in ("agent.app", "aiohttp.web", "aiortc", "av", "numpy") if m in sys.modules)}))
"""


def test_the_commands_that_do_not_run_the_agent_do_not_import_it(tmp_path: Path) -> None:
    for command in (["config", "show"], ["users", "list"], ["audit", "verify"]):
        done = subprocess.run([sys.executable, "-c", CLI_IMPORTS, *command, "--data-dir", str(tmp_path / "data")],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        assert outcome == {"status": 0, "loaded": []}, (command, outcome)
