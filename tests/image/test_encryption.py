"""The cart's encryption, with the image's own files and a real software TPM (swtpm), in seconds:

- usr/lib/telecart/seal-key (telecart-key.service) seals the agent's key with systemd-creds to a
  TPM: it opens with that TPM and not with another (a stolen disk in another machine); an older
  cart's clear secret.key is carried over byte for byte and removed; a second run keeps the key.
- the data partition: systemd-repart plans it from usr/lib/repart.d/, the real
  systemd-cryptsetup-generator turns etc/crypttab into the unit that unlocks it with the TPM, the
  mount waits for that unit; systemd-cryptenroll enrolls a TPM and a recovery key in a LUKS2 file.

What cannot run here (no device-mapper, no vfat, no TPM at /dev/tpmrm0): opening the volume,
making the partition for real at boot, unlocking it at boot. docs/image.md says so.

swtpm without the kernel's resource manager keeps the sessions systemd 252 leaves open (three at
most, then "out of memory for session contexts"): each TPM operation gets a freshly started swtpm
on the same state, as a cart's /dev/tpmrm0 flushes them when the device is closed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.conftest import EXTRA, UNITS
from tests.image.units import stub_root

SEAL = EXTRA / "usr/lib/telecart/seal-key"
REPART = EXTRA / "usr/lib/repart.d"
CRYPTTAB = EXTRA / "etc/crypttab"
GENERATOR = Path("/lib/systemd/system-generators/systemd-cryptsetup-generator")

needs_swtpm = pytest.mark.skipif(shutil.which("swtpm") is None or shutil.which("systemd-creds") is None,
                                 reason="needs swtpm and systemd-creds (apt-get install swtpm libtss2-tcti-swtpm0; scripts/bootstrap test)")


def _free_ports() -> int:
    """A free port P with P+1 free too: the swtpm TCTI reaches the control channel at P+1."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                with socket.socket() as second:
                    second.bind(("127.0.0.1", port + 1))
                    return port
            except OSError:
                continue
    raise AssertionError("no two free ports in a row")


class SoftTPM:
    """A TPM 2.0 of its own (its state in a directory), restarted before each use."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def device(self) -> str:
        """The TCTI string of a freshly started swtpm on this TPM's state."""
        self.stop()
        self.port = _free_ports()
        ctrl = self.port + 1
        self.process = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.state}",
             "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={ctrl},bindaddr=127.0.0.1", "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "swtpm did not start"
                time.sleep(0.02)
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def stop(self) -> None:
        """An orderly power-off: TPM2_Shutdown(SU_CLEAR) sent raw, then the process ended. Killed
        without it, the TPM counts each restart as a possible attack and locks out after a few."""
        if self.process is not None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as tpm:
                    tpm.sendall(bytes.fromhex("80010000000c000001450000"))
                    tpm.recv(10)
            except OSError:
                pass
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None


@pytest.fixture
def tpms(tmp_path: Path) -> Iterator[tuple[SoftTPM, SoftTPM]]:
    """This cart's TPM and another machine's."""
    made = []
    for name in ("cart", "other"):
        (tmp_path / f"tpm-{name}").mkdir()
        made.append(SoftTPM(tmp_path / f"tpm-{name}"))
    yield made[0], made[1]
    for tpm in made:
        tpm.stop()


@pytest.fixture
def cart(tmp_path: Path) -> dict[str, Path]:
    """The directories seal-key works on, and the host key systemd-creds uses (never this machine's)."""
    paths = {"store": tmp_path / "credstore", "data": tmp_path / "data", "host": tmp_path / "credential.secret"}
    paths["data"].mkdir()
    return paths


def _seal(cart: dict[str, Path], tpm: SoftTPM) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TELECART_TPM2_DEVICE": tpm.device(), "TELECART_CREDSTORE": str(cart["store"]),
           "TELECART_DATA_DIR": str(cart["data"]), "SYSTEMD_CREDENTIAL_SECRET": str(cart["host"])}
    return subprocess.run([SEAL], env=env, capture_output=True, text=True, timeout=30)


def _open(cart: dict[str, Path], tpm: SoftTPM) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["systemd-creds", "decrypt", f"--tpm2-device={tpm.device()}", "--name=telecart.key",
                           cart["store"] / "telecart.key", "-"],
                          env={**os.environ, "SYSTEMD_CREDENTIAL_SECRET": str(cart["host"])}, capture_output=True, timeout=30)


@needs_swtpm
def test_a_new_key_is_sealed_to_this_carts_tpm_and_opens_with_no_other(cart: dict[str, Path], tpms: tuple[SoftTPM, SoftTPM]) -> None:
    mine, other = tpms
    run = _seal(cart, mine)
    assert run.returncode == 0, run.stderr
    sealed = cart["store"] / "telecart.key"
    assert oct(sealed.stat().st_mode & 0o777) == "0o600" and oct(cart["store"].stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in cart["store"].iterdir()) == ["telecart.key"] and list(cart["data"].iterdir()) == []
    opened = _open(cart, mine)
    assert opened.returncode == 0 and len(opened.stdout) == 32, opened.stderr
    assert opened.stdout not in sealed.read_bytes()  # it is not in the file in clear
    stolen = _open(cart, other)  # the disk (host key included) in another machine
    assert stolen.returncode != 0 and stolen.stdout == b""


@needs_swtpm
def test_an_older_carts_clear_key_is_carried_over_byte_for_byte_then_removed(cart: dict[str, Path], tpms: tuple[SoftTPM, SoftTPM]) -> None:
    mine, _ = tpms
    clear = cart["data"] / "secret.key"
    key = os.urandom(32)
    clear.write_bytes(key)
    run = _seal(cart, mine)
    assert run.returncode == 0 and "sealed into" in run.stderr, run.stderr
    assert not clear.exists() and _open(cart, mine).stdout == key
    sealed = (cart["store"] / "telecart.key").read_bytes()
    again = _seal(cart, mine)  # the next boot: nothing changes
    assert again.returncode == 0 and (cart["store"] / "telecart.key").read_bytes() == sealed
    assert _open(cart, mine).stdout == key


@needs_swtpm
def test_a_clear_key_left_by_a_power_cut_is_removed_only_if_it_is_the_sealed_one(cart: dict[str, Path], tpms: tuple[SoftTPM, SoftTPM]) -> None:
    mine, _ = tpms
    assert _seal(cart, mine).returncode == 0
    key = _open(cart, mine).stdout
    clear = cart["data"] / "secret.key"
    clear.write_bytes(os.urandom(32))  # not the sealed key: left alone, said
    run = _seal(cart, mine)
    assert run.returncode == 0 and clear.exists() and "WARNING" in run.stderr, run.stderr
    clear.write_bytes(key)  # the same key, as after a cut between the rename and the removal
    run = _seal(cart, mine)
    assert run.returncode == 0 and not clear.exists(), run.stderr
    assert _open(cart, mine).stdout == key


def test_the_agent_loads_the_sealed_key_that_telecart_key_service_makes() -> None:
    agent = (UNITS / "telecart.service").read_text()
    key_unit = (UNITS / "telecart-key.service").read_text()
    store = re.search(r"^LoadCredentialEncrypted=telecart\.key:(\S+)$", agent, re.M)
    assert store and store.group(1) == "/var/lib/telecart-credstore/telecart.key"
    assert re.search(r"^Requires=telecart-key\.service$", agent, re.M) and re.search(r"^After=telecart-key\.service$", agent, re.M)
    assert "RequiresMountsFor=/var/lib/telecart" in agent and "RequiresMountsFor=/var/lib/telecart" in key_unit
    assert "ConditionPathExists=|!/var/lib/telecart-credstore/telecart.key" in key_unit
    assert "StateDirectory=telecart-credstore" in key_unit and "ExecStart=/usr/lib/telecart/seal-key" in key_unit
    assert 'store=${TELECART_CREDSTORE:-/var/lib/telecart-credstore}' in SEAL.read_text()


@pytest.mark.skipif(shutil.which("systemd-repart") is None, reason="systemd-repart is not installed")
def test_systemd_repart_plans_the_encrypted_data_partition(tmp_path: Path) -> None:
    """A dry run on an empty 8 GB sparse file: `--empty=allow` plans a partition table and the
    partition (exit 0, nothing written). Not `--empty=create`: systemd 252 then makes the file,
    wipes it and starts formatting the LUKS2 volume even in a dry run (the TPM seal fails here,
    exit 1; with a TPM it would refuse at the end, "re-run with --dry-run=no", exit 1 too)."""
    disk = tmp_path / "disk.img"
    with disk.open("wb") as f:
        f.truncate(8 << 30)
    run = subprocess.run(["systemd-repart", f"--definitions={REPART}", "--dry-run=yes", "--empty=allow", "--json=short",
                          "--no-pager", disk], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    (planned,) = json.loads(run.stdout)
    assert (planned["label"], planned["type"], planned["activity"]) == ("telecart-data", "linux-generic", "create")
    assert planned["raw_size"] > 7 << 30  # the free space, at least SizeMinBytes=4G
    with disk.open("rb") as f:
        assert f.read(1 << 20) == bytes(1 << 20)  # a dry run: no partition table written
    definition = (REPART / "50-telecart-data.conf").read_text()
    assert "Encrypt=tpm2" in definition.splitlines() and "Format=ext4" in definition.splitlines()


@pytest.mark.skipif(not GENERATOR.exists(), reason="systemd-cryptsetup-generator is not installed (Debian: systemd)")
def test_the_crypttab_line_unlocks_with_the_tpm_before_the_data_is_mounted(tmp_path: Path) -> None:
    """The real generator on the image's crypttab (SYSTEMD_CRYPTTAB), then systemd-analyze verify
    of its unit and the image's mount unit together."""
    out = tmp_path / "generator"
    out.mkdir()
    subprocess.run([GENERATOR, out, out, out], env={**os.environ, "SYSTEMD_CRYPTTAB": str(CRYPTTAB)},
                   check=True, capture_output=True, timeout=30)
    unit = out / "systemd-cryptsetup@telecart\\x2ddata.service"
    text = unit.read_text()
    start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert "attach 'telecart-data' '/dev/disk/by-partlabel/telecart-data'" in start and "tpm2-device=auto" in start
    assert "headless" not in start  # the recovery key can be typed at the console
    assert "BindsTo=dev-disk-by\\x2dpartlabel-telecart\\x2ddata.device" in text
    # noauto: not in cryptsetup.target (a container would wait for the disk); the mapper device,
    # which the mount binds to through What=, requires the unlock.
    assert not (out / "cryptsetup.target.requires").exists()
    assert (out / "dev-mapper-telecart\\x2ddata.device.requires" / unit.name).resolve() == unit.resolve()
    mount = (UNITS / "var-lib-telecart.mount").read_text()
    assert "What=/dev/mapper/telecart-data" in mount and "Where=/var/lib/telecart" in mount
    assert "ConditionVirtualization=!container" in mount
    if shutil.which("systemd-analyze"):
        root = stub_root(tmp_path)
        shutil.copy(unit, root / "usr/lib/systemd/system" / unit.name)
        (root / "lib").symlink_to("usr/lib")
        for name in (unit.name, "var-lib-telecart.mount"):
            # --man=no: the generated unit names crypttab(5), whose page this machine may not have
            checked = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", name],
                                     capture_output=True, text=True, timeout=60)
            assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr


@needs_swtpm
@pytest.mark.skipif(shutil.which("cryptsetup") is None or shutil.which("systemd-cryptenroll") is None,
                    reason="needs cryptsetup (cryptsetup-bin) and systemd-cryptenroll")
def test_cryptenroll_seals_a_luks2_volume_to_the_tpm_and_adds_a_recovery_key(tmp_path: Path, tpms: tuple[SoftTPM, SoftTPM]) -> None:
    """In a throw-away LUKS2 file (luksFormat writes a header: no device-mapper needed): the TPM
    slot systemd-repart makes on a cart, and the recovery path docs/image.md describes: a
    one-time key enrolls the recovery key, then its slot is wiped."""
    mine, _ = tpms
    volume, key = tmp_path / "luks.img", tmp_path / "first.key"
    with volume.open("wb") as f:
        f.truncate(32 << 20)
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    fast = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"]  # a test: not the cart's KDF
    subprocess.run(["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode", *fast, volume, key],
                   check=True, capture_output=True, timeout=60)
    enroll = subprocess.run(["systemd-cryptenroll", f"--tpm2-device={mine.device()}", f"--unlock-key-file={key}", volume],
                            capture_output=True, text=True, timeout=60)
    assert enroll.returncode == 0, enroll.stderr
    recovery = subprocess.run(["systemd-cryptenroll", f"--unlock-key-file={key}", "--recovery-key", volume],
                              capture_output=True, text=True, timeout=60)
    assert recovery.returncode == 0, recovery.stderr
    recovery_key = recovery.stdout.strip()
    assert re.fullmatch(r"([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}", recovery_key), recovery.stdout
    wipe = subprocess.run(["systemd-cryptenroll", f"--unlock-key-file={key}", "--wipe-slot=password", volume],
                          capture_output=True, text=True, timeout=60)
    assert wipe.returncode == 0, wipe.stderr
    dump = subprocess.run(["cryptsetup", "luksDump", volume], check=True, capture_output=True, text=True, timeout=30).stdout
    tokens = dump.split("Tokens:")[1].split("Digests:")[0]
    assert "systemd-tpm2" in tokens and "systemd-recovery" in tokens and "tpm2-hash-pcrs:   7" in tokens
    # The one-time key no longer opens it; the recovery key does (typed where a password is asked).
    tried = subprocess.run(["cryptsetup", "open", "--test-passphrase", f"--key-file={key}", volume], capture_output=True, timeout=30)
    assert tried.returncode != 0
    subprocess.run(["cryptsetup", "open", "--test-passphrase", "--key-file=-", volume], input=recovery_key.encode(),
                   check=True, capture_output=True, timeout=30)
