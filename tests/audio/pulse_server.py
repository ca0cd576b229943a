"""A real PulseAudio server (Debian's `pulseaudio` daemon) on a private socket, for the sound
tests: no sound card, no systemd user session, no D-Bus, root allowed, everything in a temporary
directory, gone with the fixture.

What it offers (all 48 kHz mono):
- `speaker`: a null sink, the default output. Its monitor `speaker.monitor` is the default source:
  what the cart plays, its "microphone" hears.
- `deaf`: a null source, a microphone that sends only digital silence.
- `room`: a null sink fed with soft white noise; `room.monitor` is a live microphone that never
  hears the speaker.

A null sink with no client runs in 2 s blocks, so a first recorder would wait up to 2 s for its
first samples: the fixture keeps one low-latency client on each sink (a recorder on `speaker`, the
noise player on `room`) and suspends and resumes the sink once it is there, so that its clock
starts again at that latency and every test starts at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

RATE = 48_000

CONFIG = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name=speaker rate=48000 channels=1
load-module module-null-sink sink_name=room rate=48000 channels=1
load-module module-null-source source_name=deaf rate=48000 channels=1 max_latency_msec=20
set-default-sink speaker
set-default-source speaker.monitor
"""


class PulseServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.address = f"unix:{self.socket}"
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()

    def env(self) -> dict[str, str]:
        home = self.root / "home"
        runtime = self.root / "run"
        for path in (home, runtime):
            path.mkdir(mode=0o700, exist_ok=True)
        return {
            **os.environ,
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "DBUS_SESSION_BUS_ADDRESS": "disabled:",
            "PULSE_SERVER": self.address,
        }

    def start(self, timeout: float = 10.0) -> None:
        config = self.root / "pulse.pa"
        config.write_text(CONFIG.format(socket=self.socket))
        with (self.root / "pulseaudio.log").open("wb") as log:
            daemon = subprocess.Popen(
                ["pulseaudio", "-n", "-F", str(config), "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                 "--system=false", "--disallow-exit", "--disable-shm=yes", "--log-target=stderr"],
                env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        self._processes.append(daemon)
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pulseaudio did not start: {(self.root / 'pulseaudio.log').read_text()[-2000:]}")
            time.sleep(0.02)
        self._keep_speaker_awake(deadline)
        self._play_room_noise()

    def _client(self, *args: str, stdin: int | None = None) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*args, "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--latency-msec=10", f"--server={self.address}"],
            env=self.env(), stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdin is None else subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._processes.append(process)
        return process

    def _keep_speaker_awake(self, deadline: float) -> None:
        keeper = self._client("parec", "--device=speaker.monitor")
        assert keeper.stdout is not None
        first = threading.Event()

        def drain() -> None:
            assert keeper.stdout is not None
            while keeper.stdout.read1(65536):
                first.set()

        threading.Thread(target=drain, daemon=True).start()
        # Suspended and resumed, the sink starts a new block at the keeper's latency at once.
        for suspended in ("1", "0"):
            self.pactl("suspend-sink", "speaker", suspended)
        if not first.wait(max(0.0, deadline - time.monotonic())):
            raise RuntimeError("the speaker's monitor sends nothing")

    def _play_room_noise(self) -> None:
        player = self._client("pacat", "--playback", "--device=room", stdin=subprocess.PIPE)
        noise = (np.random.default_rng(14).normal(0, 32768 * 10 ** (-30 / 20), RATE // 10)).astype("<i2").tobytes()

        def play() -> None:
            assert player.stdin is not None
            try:
                while not self._stop.is_set():
                    player.stdin.write(noise)  # blocks at the pace of the sink
                    player.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the fixture is stopping

        threading.Thread(target=play, daemon=True).start()
        for suspended in ("1", "0"):
            self.pactl("suspend-sink", "room", suspended)

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", f"--server={self.address}", *args], env=self.env(), check=True, capture_output=True, text=True, timeout=10).stdout

    def stop(self) -> None:
        self._stop.set()
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for process in self._processes:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass  # the noise player's last write, cut short


@contextlib.contextmanager
def running_pulse_server(directory: Path) -> Iterator[PulseServer]:
    """A started server in `directory`, stopped after; the test skipped without pulseaudio."""
    if shutil.which("pulseaudio") is None or shutil.which("pacat") is None:
        pytest.skip("pulseaudio and pulseaudio-utils are not installed (scripts/bootstrap test)")
    server = PulseServer(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    with running_pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server
