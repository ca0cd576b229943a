"""An update of the agent, for real: bundles signed with Ed25519 and checked before anything is
written; a version installed in its own environment and started as the service starts it (the
agent's real `telecart run`, its READY=1 read on a notify socket as systemd reads it); a version
that does not start undone by itself, the previous one serving again, and the history saying so
in French; a tampered or foreign bundle refused with nothing touched; a trial cut by a power
failure finished at the next boot."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.update import bundle as bundles
from agent.update.releases import Start, apply, current_release, read_state, rollback_unconfirmed
from tests.live import free_port
from tests.update.wheels import release_wheel

BASE_PYTHON = Path(sys.executable)  # the base environment: the test's own, with every dependency


class Service:
    """Starts a release's `telecart run` as systemd would for a Type=notify unit: one at a time,
    the previous stopped first, ready only once it sent READY=1 on NOTIFY_SOCKET."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[str] = []

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)

    def start(self, release: Path, timeout: float = 40.0) -> bool:
        self.stop()
        self.started.append(release.name)
        path = self.directory / f"notify-{len(self.started)}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(path))
        listener.settimeout(0.2)
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        env = {**os.environ, "NOTIFY_SOCKET": str(path)}
        log = open(self.directory / f"agent-{len(self.started)}.log", "ab")
        self.process = subprocess.Popen([str(release / "bin" / "telecart"), "run", "--simulate", "--data-dir", str(data),
                                         "--port", str(self.port), "--https-port", "0"], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if b"READY=1" in listener.recv(4096):
                        return True
                except TimeoutError:
                    continue
            return False
        finally:
            listener.close()

    def healthy(self) -> bool:
        return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).status_code == 200


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A release that runs the agent, and a broken one: version 0.9.0 whose `telecart` exits at start."""
    out = tmp_path_factory.mktemp("wheels")
    return {"good": release_wheel(out / "good", "0.5.0", "agent.cli:main"),
            "broken": release_wheel(out / "broken", "0.9.0", "telecart_release:main",
                             "def main():\n    raise SystemExit('configuration illisible : la version 0.9.0 ne démarre pas')\n")}


@pytest.fixture
def publisher() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def cart(tmp_path: Path) -> Iterator[tuple[Path, Service]]:
    root = tmp_path / "opt-telecart"
    root.mkdir()
    service = Service(tmp_path)
    try:
        yield root, service
    finally:
        service.stop()


def _good_version(wheels: dict[str, Path]) -> str:
    return wheels["good"].name.split("-")[1]


def test_an_update_that_does_not_start_is_undone_and_the_previous_version_serves(
        wheels: dict[str, Path], publisher: Ed25519PrivateKey, cart: tuple[Path, Service], tmp_path: Path) -> None:
    root, service = cart
    keys = [publisher.public_key()]
    first = bundles.make(tmp_path / "first.tar", _good_version(wheels), [wheels["good"]], publisher)
    installed = apply(first, root, keys, BASE_PYTHON, service.start)
    assert installed.installed, installed.detail
    assert current_release(root) == root / "releases" / _good_version(wheels) and service.healthy()

    broken = bundles.make(tmp_path / "broken.tar", "0.9.0", [wheels["broken"]], publisher)
    outcome = apply(broken, root, keys, BASE_PYTHON, service.start)
    assert not outcome.installed
    assert outcome.detail == f"la version 0.9.0 ne démarrait pas : retour automatique à la version {_good_version(wheels)}"
    assert service.started == [_good_version(wheels), "0.9.0", _good_version(wheels)]  # tried, then the previous started again
    assert current_release(root) == root / "releases" / _good_version(wheels) and service.healthy()
    state = read_state(root)
    assert (state["running"], state["trial"]) == (_good_version(wheels), None)
    assert [(h["version"], h["outcome"]) for h in state["history"][:2]] == [("0.9.0", "annulée"), ("0.9.0", "à l'essai")]


def test_a_tampered_or_foreign_bundle_is_refused_before_anything_is_written(
        wheels: dict[str, Path], publisher: Ed25519PrivateKey, cart: tuple[Path, Service], tmp_path: Path) -> None:
    root, service = cart
    keys = [publisher.public_key()]
    good = bundles.make(tmp_path / "good.tar", "1.0.0", [wheels["good"]], publisher)

    tampered = tmp_path / "tampered.tar"
    raw = bytearray(good.read_bytes())
    at = raw.rfind(b"PK")  # inside the wheel (a zip): one byte of its content changed
    raw[at - 100] ^= 0xFF
    tampered.write_bytes(bytes(raw))
    foreign = bundles.make(tmp_path / "foreign.tar", "1.0.0", [wheels["good"]], Ed25519PrivateKey.generate())
    other_cart = bundles.make(tmp_path / "other.tar", "1.0.0", [wheels["good"]], publisher, compatible="autre-appareil")
    smuggled = tmp_path / "smuggled.tar"
    smuggled.write_bytes(good.read_bytes())
    with tarfile.open(smuggled, "a") as archive:
        archive.add(__file__, arcname="../../etc/cron.d/intrus")

    said = {}
    for name, bundle in (("tampered", tampered), ("foreign", foreign), ("other", other_cart), ("smuggled", smuggled)):
        outcome = apply(bundle, root, keys, BASE_PYTHON, service.start)
        assert not outcome.installed
        said[name] = outcome.detail
    assert "empreinte différente" in said["tampered"] or "illisible" in said["tampered"]
    assert said["foreign"].startswith("signature du paquet de mise à jour invalide")
    assert said["other"] == "paquet pour « autre-appareil », pas pour ce chariot (telecart-chariot)"
    assert said["smuggled"] == "le paquet de mise à jour contient des fichiers que son manifeste ne signe pas"
    assert not (root / "releases").exists() and service.started == []  # nothing written, nothing started
    assert [h["outcome"] for h in read_state(root)["history"]] == ["refusée"] * 4
    assert apply(good, root, [], BASE_PYTHON, service.start).detail == "aucune clé de mise à jour n'est installée sur le chariot : paquet refusé"


def test_a_trial_cut_by_a_power_failure_is_undone_at_the_next_boot(
        wheels: dict[str, Path], publisher: Ed25519PrivateKey, cart: tuple[Path, Service], tmp_path: Path) -> None:
    root, service = cart
    keys = [publisher.public_key()]
    assert apply(bundles.make(tmp_path / "first.tar", _good_version(wheels), [wheels["good"]], publisher), root, keys, BASE_PYTHON,
                 service.start).installed

    def power_cut(release: Path) -> bool:
        raise KeyboardInterrupt  # the updater dies while the new version starts

    with pytest.raises(KeyboardInterrupt):
        apply(bundles.make(tmp_path / "next.tar", "0.9.0", [wheels["broken"]], publisher), root, keys, BASE_PYTHON, power_cut)
    assert current_release(root) == root / "releases" / "0.9.0" and read_state(root)["trial"] == "0.9.0"

    start: Start = service.start
    undone = rollback_unconfirmed(root, start)  # what the boot runs before the agent
    assert undone is not None and not undone.installed and "retour automatique" in undone.detail
    assert current_release(root) == root / "releases" / _good_version(wheels) and service.healthy()
    assert rollback_unconfirmed(root, start) is None  # nothing left on trial


def test_the_version_the_base_environment_holds_still_gets_its_own_command(publisher: Ed25519PrivateKey, tmp_path: Path) -> None:
    """The image's first version is the base's own agent: pip must not find it there and skip it."""
    from agent import __version__

    root = tmp_path / "opt-telecart"
    root.mkdir()
    same = release_wheel(tmp_path / "same", __version__, "agent.cli:main")
    outcome = apply(bundles.make(tmp_path / "same.tar", __version__, [same], publisher), root, [publisher.public_key()], BASE_PYTHON,
                    lambda release: (release / "bin" / "telecart").is_file())
    assert outcome.installed, outcome.detail
    help_text = subprocess.run([str(root / "current" / "bin" / "telecart"), "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "telecart" in help_text.stdout
