"""The image's systemd units are valid, hardened under their thresholds, and say what the cart
needs: checked by systemd's own analyzer against a small root, no image built (seconds)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.image.units import ANALYZE, THRESHOLDS, VERIFIED, exposure, settings, stub_root, verify

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stub_root(tmp_path_factory.mktemp("units"))


@needs_analyze
@pytest.mark.parametrize("unit", [*sorted(THRESHOLDS), *VERIFIED])
def test_unit_verifies_without_a_warning(root: Path, unit: str) -> None:
    result = verify(root, unit)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # an unknown key is only a warning, exit 0


@needs_analyze
@pytest.mark.parametrize("unit", sorted(THRESHOLDS))
def test_unit_exposure_is_under_its_threshold(root: Path, unit: str) -> None:
    level, run = exposure(root, unit)
    assert run.returncode == 0 and level <= THRESHOLDS[unit], (
        f"{unit}: exposure {level} > {THRESHOLDS[unit]}\n" + "\n".join(line for line in run.stdout.splitlines() if "✗" in line))


def test_agent_is_a_notify_service_with_a_watchdog_that_restarts_it() -> None:
    agent = settings("telecart.service")
    assert agent["Type"] == ["notify"] and agent["NotifyAccess"] == ["main"]
    assert int(agent["WatchdogSec"][0]) > 0 and agent["Restart"] == ["on-failure"]
    assert agent["ExecStart"] == ["/opt/telecart/current/bin/telecart run --config /etc/telecart/telecart.toml"]


def test_agent_runs_as_its_static_user_on_its_state_directory() -> None:
    agent = settings("telecart.service")
    assert agent["User"] == ["telecart"] and "DynamicUser" not in agent  # the CLI runs as the same user
    assert agent["StateDirectory"] == ["telecart"] and agent["StateDirectoryMode"] == ["0700"]
    assert agent["ProtectSystem"] == ["strict"] and agent["NoNewPrivileges"] == ["yes"]
    assert agent["SystemCallFilter"][0] == "@system-service" and agent["CapabilityBoundingSet"] == [""]


def test_agent_reaches_only_its_own_devices() -> None:
    agent = settings("telecart.service")
    assert agent["DevicePolicy"] == ["closed"]
    assert sorted(agent["DeviceAllow"]) == ["char-ttyACM rw", "char-ttyUSB rw", "char-video4linux rw"]
    assert set(agent["SupplementaryGroups"][0].split()) == {"video", "dialout", "telecart-sound"}


def test_kiosk_waits_for_the_ready_agent_and_runs_chromium_in_french_full_screen() -> None:
    kiosk = settings("telecart-kiosk.service")
    assert "telecart.service" in kiosk["Requires"][0].split() and "telecart.service" in kiosk["After"][0].split()
    assert kiosk["User"] == ["kiosk"] and kiosk["TTYPath"] == ["/dev/tty1"] and kiosk["PAMName"] == ["telecart-kiosk"]
    command = shlex.split(kiosk["ExecStart"][0])
    assert command[:4] == ["/usr/bin/cage", "-d", "--", "/usr/bin/chromium"]
    flags = set(command[4:])
    assert {"--kiosk", "http://127.0.0.1:8080/", "--lang=fr-FR", "--autoplay-policy=no-user-gesture-required",
            "--password-store=basic", "--disable-pinch", "--noerrdialogs", "--hide-crash-restore-bubble",
            "--no-first-run"} <= flags
    # A fresh profile in memory each start: there is never a previous session to offer to restore.
    assert "--user-data-dir=/run/telecart-kiosk/profile" in flags and kiosk["RuntimeDirectory"] == ["telecart-kiosk"]
    assert "LANG=fr_FR.UTF-8" in kiosk["Environment"][1].split()
