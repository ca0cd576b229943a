"""The image's other system files do what docs/image.md says: the users, the data directory,
what starts at boot, the udev rules, Chromium's policy, the `telecart` wrapper, the mkosi
definition. Each is run through the real tool where this machine has it (seconds)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.image import udev
from tests.image.conftest import EXTRA, IMAGE, UNITS

SYSUSERS = EXTRA / "usr/lib/sysusers.d/telecart.conf"
TMPFILES = EXTRA / "usr/lib/tmpfiles.d/telecart.conf"
PRESET = EXTRA / "usr/lib/systemd/system-preset/20-telecart.preset"
RULES = EXTRA / "usr/lib/udev/rules.d/99-telecart.rules"


def _passwd(root: Path, name: str) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in (root / "etc" / name).read_text().splitlines()}


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers is not installed")
def test_sysusers_makes_the_agent_and_kiosk_users_with_fixed_ids(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", SYSUSERS], check=True, capture_output=True, timeout=30)
    users, groups = _passwd(tmp_path, "passwd"), _passwd(tmp_path, "group")
    assert users["telecart"][2:4] == ["810", "810"] and users["telecart"][5] == "/var/lib/telecart"
    assert users["kiosk"][2:4] == ["811", "811"]
    assert users["telecart"][6] == users["kiosk"][6] == "/usr/sbin/nologin"
    assert groups["telecart-sound"][2] == "812"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("systemd-tmpfiles") is None,
                    reason="needs root (to chown) and systemd-tmpfiles")
def test_tmpfiles_makes_the_data_directory_the_agents_alone(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", SYSUSERS], check=True, capture_output=True, timeout=30)
    shutil.copytree(EXTRA / "usr/lib/tmpfiles.d", tmp_path / "usr/lib/tmpfiles.d")
    subprocess.run(["systemd-tmpfiles", f"--root={tmp_path}", "--create", "telecart.conf"], check=True, timeout=30)
    data, sound = (tmp_path / "var/lib/telecart").stat(), (tmp_path / "run/telecart-sound").stat()
    assert (data.st_uid, data.st_gid, oct(data.st_mode & 0o7777)) == (810, 810, "0o700")
    assert (sound.st_uid, sound.st_gid, oct(sound.st_mode & 0o7777)) == (811, 812, "0o2770")


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl is not installed")
def test_preset_starts_the_agent_kiosk_and_networkmanager_and_not_networkd(tmp_path: Path) -> None:
    """`systemctl preset-all` on this machine's units plus the image's: what mkosi.postinst does."""
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd", tmp_path / "usr/lib/systemd", symlinks=True)
    for unit in UNITS.iterdir():
        shutil.copy(unit, tmp_path / "usr/lib/systemd/system")
    shutil.copy(PRESET, tmp_path / "usr/lib/systemd/system-preset")
    stand_ins = {"NetworkManager.service": "multi-user.target", "apt-daily.timer": "timers.target",
                 "getty@.service": "getty.target", "systemd-networkd.service": "multi-user.target"}
    for name, target in stand_ins.items():  # those this machine may not have
        path = tmp_path / "usr/lib/systemd/system" / name
        if not path.exists():
            path.write_text(f"[Service]\nExecStart=/bin/true\n[Install]\nWantedBy={target}\n"
                            + ("DefaultInstance=tty1\n" if "@" in name else ""))
    subprocess.run(["systemctl", f"--root={tmp_path}", "preset-all"], check=True, capture_output=True, timeout=60)

    def state(unit: str) -> str:
        return subprocess.run(["systemctl", f"--root={tmp_path}", "is-enabled", unit],
                              capture_output=True, text=True, timeout=30).stdout.strip()

    assert [state(u) for u in ("telecart.service", "telecart-kiosk.service", "NetworkManager.service")] == ["enabled"] * 3
    assert [state(u) for u in ("systemd-networkd.service", "getty@tty1.service", "apt-daily.timer")] == ["disabled"] * 3


def test_udev_rules_read_cleanly() -> None:
    rules = udev.parse(RULES)
    assert len(rules) == 4


@pytest.mark.parametrize(("device", "expected"), [
    ({"SUBSYSTEM": "video4linux", "KERNEL": "video0"}, {"GROUP": "video", "MODE": "0660"}),
    # A Contec oximeter's CP210x with its serial number: dialout, kept from ModemManager, by-id names it.
    ({"SUBSYSTEM": "tty", "KERNEL": "ttyUSB0", "ID_VENDOR_ID": "10c4", "ID_SERIAL_SHORT": "0001",
      "ID_PATH_TAG": "pci-0000_00_14_0-usb-0_2_1_0"},
     {"GROUP": "dialout", "MODE": "0660", "ID_MM_DEVICE_IGNORE": "1", "SYMLINK": None}),
    # A CH340 cable without a serial number: named by its USB port.
    ({"SUBSYSTEM": "tty", "KERNEL": "ttyUSB1", "ID_VENDOR_ID": "1a86", "ID_PATH_TAG": "pci-0000_00_14_0-usb-0_3_1_0"},
     {"GROUP": "dialout", "ID_MM_DEVICE_IGNORE": "1", "SYMLINK": "telecart/serial-pci-0000_00_14_0-usb-0_3_1_0"}),
    # The 4G modem (a CDC ACM device of another vendor) stays ModemManager's.
    ({"SUBSYSTEM": "tty", "KERNEL": "ttyACM0", "ID_VENDOR_ID": "2c7c", "ID_SERIAL_SHORT": "abc"},
     {"GROUP": "dialout", "ID_MM_DEVICE_IGNORE": None}),
    ({"SUBSYSTEM": "tty", "KERNEL": "ttyS0"}, {"GROUP": None, "MODE": None}),
], ids=["camera", "sensor-with-serial", "sensor-without-serial", "modem", "console"])
def test_udev_rules_give_the_agents_groups_its_devices(device: dict[str, str], expected: dict[str, str | None]) -> None:
    result = udev.apply(udev.parse(RULES), {"ACTION": "add", **device})
    assert {key: result.get(key) for key in expected} == expected


def test_udev_reader_refuses_a_typo(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('SUBSYSTEM=="tty", GROUPE="dialout"\n')
    with pytest.raises(udev.RuleError):
        udev.parse(bad)


def test_kiosk_browser_may_open_only_the_agent_and_pro_sante_connect() -> None:
    policy = json.loads((EXTRA / "etc/chromium/policies/managed/telecart.json").read_text())
    assert policy["URLBlocklist"] == ["*"] and "http://127.0.0.1:8080" in policy["URLAllowlist"]
    assert policy["AutoplayAllowed"] is True and policy["PasswordManagerEnabled"] is False


def test_telecart_wrapper_is_valid_shell_and_runs_as_the_agents_user() -> None:
    wrapper = EXTRA / "usr/local/bin/telecart"
    assert os.access(wrapper, os.X_OK)
    subprocess.run(["sh", "-n", wrapper], check=True, timeout=10)
    text = wrapper.read_text()
    assert "setpriv --reuid=telecart --regid=telecart" in text and "STATE_DIRECTORY=\"$data\"" in text


def test_the_pipewire_snippets_land_where_pipewire_reads_them() -> None:
    """The echo canceller (image/pipewire/) is staged by scripts/build-image; the agent's socket
    is in the extra tree; both are SPA-JSON objects PipeWire merges into its configuration."""
    build = (IMAGE.parent / "scripts/build-image").read_text()
    assert "etc/pipewire/pipewire.conf.d/60-telecart-echo-cancel.conf" in build
    agent_socket = (EXTRA / "etc/pipewire/pipewire-pulse.conf.d/60-telecart-agent.conf").read_text()
    assert '"unix:/run/telecart-sound/pulse"' in agent_socket
    assert "PULSE_SERVER=unix:/run/telecart-sound/pulse" in (UNITS / "telecart.service").read_text()


@pytest.mark.skipif(shutil.which("mkosi") is None, reason="mkosi is not installed (apt-get install mkosi)")
def test_mkosi_reads_the_image_definition() -> None:
    summary = subprocess.run(["mkosi", "summary"], cwd=IMAGE, capture_output=True, text=True, timeout=60)
    shown = summary.stdout + summary.stderr  # mkosi 14 prints it on stderr
    assert summary.returncode == 0, shown
    assert "Distribution: debian" in shown and "Release: bookworm" in shown and "Output Format: directory" in shown
    packages = shown.split("Packages:")[1].split("Package Cache:")[0].split()
    assert {"python3-venv", "chromium", "chromium-l10n", "cage", "pipewire", "pcscd", "bluez", "network-manager"} <= set(packages)
    assert os.access(IMAGE / "mkosi.postinst", os.X_OK)
