"""The built image, for real: its units checked against the tree itself, and the tree booted with
systemd-nspawn to the agent's READY=1 (marker `image`: skipped unless a tree is given or built,
docs/image.md; 25 to 40 s with a tree, two to three minutes more to build one).

The tree is booted with a throw-away overlay over it (--volatile=overlay), so the first boot it
goes through is the one a cart goes through, and the tree stays as built; with a private network
(only loopback), so that the image's NetworkManager never touches this machine's interfaces.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.image.units import THRESHOLDS, VERIFIED, exposure, verify

pytestmark = pytest.mark.image
BOOT = Path(__file__).resolve().parent / "boot"


@pytest.mark.parametrize("unit", sorted(THRESHOLDS))
def test_units_verify_and_stay_under_their_thresholds_in_the_built_tree(image_tree: Path, unit: str) -> None:
    checked = verify(image_tree, unit)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
    level, run = exposure(image_tree, unit)
    assert run.returncode == 0 and level <= THRESHOLDS[unit], run.stdout[-1500:]


@pytest.mark.parametrize("unit", VERIFIED)
def test_the_data_mount_verifies_in_the_built_tree(image_tree: Path, unit: str) -> None:
    checked = verify(image_tree, unit)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr


def _boot(tree: Path, out: Path, check: str, *binds: str) -> dict[str, str]:
    """Boots the tree once with boot/<check> as the check; what it recorded inside, file by file."""
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("systemd-nspawn is not installed (apt-get install systemd-container)")
    shutil.copy(BOOT / check, out / "check.sh")
    started = time.monotonic()
    run = subprocess.run(
        ["systemd-nspawn", "--quiet", f"--directory={tree}", "--boot", "--register=no", "--keep-unit",
         "--console=pipe", "--private-network", "--volatile=overlay", "--timezone=off",
         f"--bind={out}:/run/telecart-boot-check",
         f"--bind-ro={BOOT / 'telecart-boot-check.service'}:/run/systemd/system/telecart-boot-check.service",
         *binds, "systemd.wants=telecart-boot-check.service"],
        capture_output=True, text=True, timeout=180,
    )
    facts = {path.name: path.read_text() for path in out.iterdir() if path.is_file()}
    facts["seconds"] = f"{time.monotonic() - started:.1f}"
    facts["console"] = run.stdout[-3000:] + run.stderr[-3000:]
    assert "done" in facts, f"the check never finished (nspawn exit {run.returncode}):\n{facts['console']}"
    return facts


@pytest.fixture(scope="module")
def booted(image_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The image as it boots in a container: no screen, so no kiosk."""
    return _boot(image_tree, tmp_path_factory.mktemp("boot"), "check.sh")


@pytest.fixture(scope="module")
def kiosk(image_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The image booted with the kiosk on wlroots' headless output (boot/kiosk-headless.conf)."""
    dropin = "/run/systemd/system/telecart-kiosk.service.d/headless.conf"
    return _boot(image_tree, tmp_path_factory.mktemp("kiosk"), "kiosk-check.sh",
                 f"--bind-ro={BOOT / 'kiosk-headless.conf'}:{dropin}")


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_the_image_boots_to_the_agents_ready_and_the_agent_answers(booted: dict[str, str]) -> None:
    agent = _properties(booted["telecart.state"])
    assert (agent["ActiveState"], agent["SubState"], agent["NRestarts"]) == ("active", "running", "0"), booted["journal.txt"][-4000:]
    health = json.loads(booted["healthz"])
    assert health["status"] == 200, booted["healthz"]
    started, ready = int(agent["ExecMainStartTimestampMonotonic"]), int(agent["ActiveEnterTimestampMonotonic"])
    boot = int(_properties(booted["manager.state"])["UserspaceTimestampMonotonic"])
    print(f"\nagent READY {(ready - boot) / 1e6:.1f} s after the container's systemd started, {(ready - started) / 1e6:.1f} s "
          f"after the agent did; boot, checks and power-off took {booted['seconds']} s")


def test_no_unit_fails_and_only_the_image_s_units_are_enabled(booted: dict[str, str]) -> None:
    assert booted["failed.txt"].strip() == "", booted["failed.txt"]
    assert booted["enabled.txt"].split() == ["disabled", "disabled", "enabled"]  # networkd, getty@tty1, the agent
    # No screen in a container: the kiosk is skipped by its condition, not failed.
    assert _properties(booted["kiosk.state"]) == {"ActiveState": "inactive", "ConditionResult": "no"}


def test_the_cart_speaks_french_on_paris_time(booted: dict[str, str]) -> None:
    assert "LANG=fr_FR.UTF-8" in booted["locale.txt"] and "Cannot set" not in booted["locale.txt"]
    assert booted["localtime.txt"].strip().endswith("zoneinfo/Europe/Paris")


def test_the_agent_started_with_its_key_sealed_and_no_clear_key_on_disk(booted: dict[str, str]) -> None:
    """No TPM in a container: telecart-key.service sealed it with the host key (--with-key=auto)."""
    key = _properties(booted["key.state"])
    assert (key["ActiveState"], key["Result"]) == ("active", "success"), booted["journal.txt"][-4000:]
    assert booted["credstore.txt"].split()[:4] == ["root", "root", "600", "/var/lib/telecart-credstore/telecart.key"]
    assert booted["clear-key.txt"] == "", booted["clear-key.txt"]  # no secret.key in /var/lib/telecart
    assert booted["agent-credential.txt"].strip() == "telecart.key", booted["agent-credential.txt"]
    # The data mount is skipped in a container (no disk of its own), not failed.
    assert _properties(booted["mount.state"]) == {"ActiveState": "inactive", "ConditionResult": "no"}


def test_the_telecart_command_runs_as_the_agents_user_and_leaves_no_root_file(booted: dict[str, str]) -> None:
    assert booted["users-add.txt"].rstrip().endswith("exit 0"), booted["users-add.txt"]
    assert "technicien" in booted["users-list.txt"] and booted["users-list.txt"].rstrip().endswith("exit 0")
    # The command opened the sealed key (the agent's sealed values open with it) and left no trace.
    assert booted["cli-key.txt"].strip() == "nothing under /run/telecart-cli-credentials", booted["cli-key.txt"]
    assert booted["as-telecart.txt"].rstrip().endswith("exit 1") and "sealed" in booted["as-telecart.txt"]
    assert booted["not-telecart.txt"] == "", booted["not-telecart.txt"]
    assert booted["data-dir.txt"].split()[:3] == ["telecart", "telecart", "700"]
    groups = booted["id-telecart.txt"]
    assert "uid=810(telecart)" in groups and "gid=810(telecart)" in groups


def test_the_kiosk_runs_chromium_under_its_hardening_and_loads_the_agents_page(kiosk: dict[str, str]) -> None:
    state = _properties(kiosk["kiosk.state"])
    assert (state["ActiveState"], state["SubState"], state["NRestarts"]) == ("active", "running", "0"), kiosk["journal.txt"][-4000:]
    processes = kiosk["kiosk-ps.txt"].splitlines()
    assert processes[0].startswith("/usr/bin/cage -d -- /usr/bin/chromium --kiosk http://127.0.0.1:8080/")
    # Chromium's own sandbox works inside the unit's: its renderers started (user and PID
    # namespaces, seccomp), and its network service holds connections to the agent.
    assert any("--type=renderer" in p for p in processes), processes
    assert any("127.0.0.1:8080" in line and '"chromium"' in line for line in kiosk["ss.txt"].splitlines()), kiosk["ss.txt"]


def test_the_agent_reaches_the_kiosk_sessions_pipewire_and_its_echo_canceller(kiosk: dict[str, str]) -> None:
    info = dict(line.split(": ", 1) for line in kiosk["pactl-info.txt"].splitlines() if ": " in line)
    assert info.get("Server Name", "").startswith("PulseAudio (on PipeWire"), kiosk["pactl-info.txt"]
    assert (info["Default Sink"], info["Default Source"], info["User Name"]) == ("echo-cancel-sink", "echo-cancel-source", "kiosk")
    socket = next(line for line in kiosk["sound-dir.txt"].splitlines() if line.endswith(" pulse"))
    assert socket.split()[2:4] == ["811", "812"]  # kiosk's, in the group telecart-sound
    nobody = kiosk["pactl-nobody.txt"]  # anybody else is refused at the socket
    assert "Server Name" not in nobody and "pa_context_connect() failed" in nobody, nobody
