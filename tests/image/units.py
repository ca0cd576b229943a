"""Reading the image's units, and a root systemd-analyze can check them against."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.image.conftest import EXTRA, UNITS

ANALYZE = shutil.which("systemd-analyze")

# The exposure (systemd-analyze security, 0 = locked down, 10 = wide open) each unit must stay
# at or below; docs/image.md says why these numbers.
THRESHOLDS = {"telecart.service": 2.0, "telecart-kiosk.service": 3.0, "telecart-update-boot.service": 4.0,
              "telecart-key.service": 2.0, "telecart-update.service": 2.5}

# Units checked by `systemd-analyze verify` only (no service to rate).
VERIFIED = ("var-lib-telecart.mount", "telecart-update.path")

# What the units start, made executable in the stub root so that verify finds them.
BINARIES = ("opt/telecart/current/bin/telecart", "usr/bin/cage")
SCRIPTS = ("usr/lib/telecart/seal-key",)


def settings(unit: str) -> dict[str, list[str]]:
    """Every `Key=value` of a unit, each key with its values in order (continuations joined)."""
    text = (UNITS / unit).read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        found.setdefault(key.strip(), []).append(" ".join(value.split()))
    return found


def stub_root(tmp: Path) -> Path:
    """A root holding this machine's systemd units, the image's units and stand-ins for the
    binaries they start: enough for `systemd-analyze --root=` without building the image."""
    root = tmp / "root"
    (root / "usr/lib").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd", root / "usr/lib/systemd", symlinks=True)
    for unit in UNITS.iterdir():
        shutil.copy(unit, root / "usr/lib/systemd/system" / unit.name)
    # What the agent's unit wants, if this machine has no pcscd.
    socket = root / "usr/lib/systemd/system/pcscd.socket"
    if not socket.exists():
        socket.write_text("[Socket]\nListenStream=/run/pcscd/pcscd.comm\n")
    for binary in BINARIES:
        path = root / binary
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    # The image's own scripts the units start, as they are.
    for script in SCRIPTS:
        (root / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXTRA / script, root / script)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE
    return subprocess.run([ANALYZE, "verify", f"--root={root}", unit], capture_output=True, text=True, timeout=60)


def exposure(root: Path, unit: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The unit's overall exposure, and the run of `security --threshold=` at its limit."""
    assert ANALYZE
    limit = round(THRESHOLDS[unit] * 10)
    run = subprocess.run([ANALYZE, "security", "--offline=yes", f"--root={root}", f"--threshold={limit}", unit],
                         capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", run.stdout)
    assert level, run.stdout[-800:] + run.stderr
    return float(level.group(1)), run
