"""The agent's systemd unit is valid and hardened (checked by systemd's own analyzer)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "image" / "telecart.service"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A root with the unit, the systemd units it refers to, and the binary it starts."""
    binary = tmp_path / "opt/telecart/.venv/bin/telecart"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    units = tmp_path / "etc/systemd/system"
    units.mkdir(parents=True)
    shutil.copy(UNIT, units)
    shutil.copytree("/usr/lib/systemd", tmp_path / "usr/lib/systemd", symlinks=True)
    return tmp_path


def test_unit_verifies_without_warnings(tree: Path) -> None:
    result = subprocess.run([ANALYZE, "verify", f"--root={tree}", "telecart.service"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings


def test_unit_is_hardened(tree: Path) -> None:
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", f"--root={tree}", "--threshold=25", "telecart.service"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-600:]


def test_unit_is_a_notify_service_with_a_watchdog() -> None:
    text = UNIT.read_text()
    assert "Type=notify" in text and "WatchdogSec=" in text and "StateDirectory=telecart" in text
