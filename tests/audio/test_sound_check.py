"""The technician's sound test (drivers/audio/sound_check.py) against a real PulseAudio server on a
private socket (tests/audio/pulse_server.py): pacat and parec really play and record, and what
the "microphone" hears is what the server carried."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.audio import RATE
from drivers.audio import sound_check as sc
from tests.audio.pulse_server import PulseServer
from tests.notify.servers import run_async

SECONDS = 1.5  # the shortest recording the check allows: the beeps and half a second of delay
BOUND = SECONDS + sc.STARTUP_SECONDS + 0.5  # the check's own bound, and a little for the loop


def check(device: str, backend: str = "pulse", **kwargs) -> sc.SoundCheck:
    started = time.monotonic()
    result = run_async(sc.check_sound(device, backend, seconds=SECONDS, **kwargs))
    assert time.monotonic() - started < BOUND
    return result


def test_the_monitor_hears_the_beeps(pulse_server: PulseServer) -> None:
    result = check("default", server=pulse_server.address)
    assert result.played and result.playback_error is None and result.microphone_error is None
    assert result.tone_heard and not result.silent
    assert result.tone_contrast_db is not None and result.tone_contrast_db >= 40
    assert result.peak_dbfs == pytest.approx(sc.TONE_DBFS, abs=1.0)  # nothing but the tone was played
    assert result.verdict.startswith(sc.VERDICT_OK)
    # The call reads a PulseAudio microphone with parec when PyAV has no "pulse" format (device.py).
    assert result.ok and result.call_reader_error is None
    assert type(result.peak_dbfs) is float and type(result.silent) is bool  # JSON-ready, no numpy scalars


def test_the_server_from_the_environment_and_a_named_output(pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_SERVER", pulse_server.address)
    result = check("speaker.monitor", output="speaker")
    assert result.played and result.tone_heard


def test_a_muted_microphone_is_silent(pulse_server: PulseServer) -> None:
    result = check("deaf", server=pulse_server.address)
    assert result.played
    assert result.silent and not result.tone_heard and result.microphone_error is None
    assert result.peak_dbfs == sc.FLOOR_DBFS and result.rms_dbfs == sc.FLOOR_DBFS
    assert result.verdict == sc.VERDICT_SILENT and not result.ok


def test_a_microphone_that_does_not_hear_the_speaker(pulse_server: PulseServer) -> None:
    result = check("room.monitor", server=pulse_server.address)
    assert result.played and not result.silent and result.microphone_error is None
    assert result.rms_dbfs is not None and -34 < result.rms_dbfs < -26  # the room's noise, -30 dBFS
    assert not result.tone_heard and result.verdict.startswith(sc.VERDICT_NOT_HEARD)


def test_a_muted_source_on_the_server(pulse_server: PulseServer) -> None:
    pulse_server.pactl("set-source-mute", "speaker.monitor", "1")
    try:
        result = check("speaker.monitor", server=pulse_server.address)
    finally:
        pulse_server.pactl("set-source-mute", "speaker.monitor", "0")
    assert result.played and result.silent and result.verdict == sc.VERDICT_SILENT


def test_unknown_devices(pulse_server: PulseServer) -> None:
    result = check("nowhere", server=pulse_server.address)
    assert result.played and result.microphone_error == sc.no_microphone("nowhere") and result.peak_dbfs is None
    assert result.verdict.startswith(f"Le haut-parleur joue ; micro indisponible : {sc.no_microphone('nowhere')}")
    result = check("room.monitor", output="nowhere", server=pulse_server.address)
    assert not result.played and result.playback_error == sc.NO_OUTPUT and not result.silent
    assert result.verdict.startswith(f"{sc.NO_OUTPUT} ; le micro fonctionne")


def test_no_server_at_the_socket(tmp_path: Path) -> None:
    result = check("default", server=f"unix:{tmp_path / 'native'}")
    assert not result.played and result.playback_error == sc.NO_SERVER and result.microphone_error == sc.NO_SERVER
    assert result.verdict == sc.VERDICT_NO_SERVER and not result.ok
    assert result.elapsed < 1.0


def test_a_server_that_never_answers_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that accepts connections and says nothing: the check gives up at its bound."""
    monkeypatch.setattr(sc, "STARTUP_SECONDS", 0.5)  # the bound is the same code, sooner
    path = tmp_path / "mute"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(8)
        result = check("default", server=f"unix:{path}")
    assert not result.played and result.playback_error == sc.TOO_SLOW and result.microphone_error == sc.TOO_SLOW
    assert SECONDS + 0.5 <= result.elapsed < SECONDS + 1.0  # it waited its bound, no more, no less


def test_no_pulseaudio_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = check("default")
    assert result.verdict == sc.TOOLS_MISSING and not result.played and result.microphone_error == sc.TOOLS_MISSING


def test_an_unknown_backend() -> None:
    result = check("default", "oss")
    assert not result.played and result.verdict == "Mode de son inconnu : « oss »"


# --- ALSA, through PyAV's own ALSA (bundled libasound): its built-in null device, no sound card ---


@pytest.fixture
def alsa_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "asound.conf"
    config.write_text("pcm.null { type null }\n")
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(config))


def test_alsa_null_device_plays_and_records(alsa_null: None) -> None:
    """The null device swallows the tone and records whatever its buffer holds (not always zeros):
    what is checked is that PyAV's ALSA output and the call's reader run, in threads, to the end."""
    result = check("null", "alsa", output="null")
    assert result.played and result.playback_error is None
    assert result.microphone_error is None and result.peak_dbfs is not None and not result.tone_heard
    assert result.verdict in (sc.VERDICT_SILENT, sc.VERDICT_NOT_HEARD)


def test_alsa_unknown_devices(alsa_null: None) -> None:
    result = check("nowhere", "alsa", output="nowhere")
    assert not result.played and result.playback_error == sc.NO_OUTPUT
    assert result.microphone_error == sc.no_microphone("nowhere")


# --- the analysis alone -------------------------------------------------------------------------


def test_the_tone_is_soft_and_found_at_any_delay() -> None:
    tone = sc.tone()
    assert len(tone) == int(sc.TONE_SECONDS * RATE)
    assert sc.levels(tone)[0] == pytest.approx(sc.TONE_DBFS, abs=0.1)
    rng = np.random.default_rng(1)
    for delay in (0.0, 0.137, 0.5):
        recording = np.zeros(int(2.0 * RATE), dtype=np.int16)
        start = int(delay * RATE)
        recording[start : start + len(tone)] = tone // 8  # 18 dB down: a distant loudspeaker
        recording += rng.normal(0, 100, recording.size).astype(np.int16)  # and a room
        contrast, share = sc.tone_contrast(recording)
        assert contrast >= sc.HEARD_CONTRAST_DB and share >= sc.HEARD_SHARE


def test_a_steady_hum_at_the_tone_is_not_the_beeps() -> None:
    t = np.arange(2 * RATE) / RATE
    hum = (3000 * np.sin(2 * np.pi * sc.TONE_HZ * t)).astype(np.int16)
    contrast, _ = sc.tone_contrast(hum)
    assert contrast < sc.HEARD_CONTRAST_DB


def test_beeps_played_late_and_with_gaps_are_heard() -> None:
    """A loaded machine under-runs: the beeps come with gaps, not at their planned times."""
    tone = sc.tone()
    cut = [0, 3000, 9000, 20000, 30000, len(tone)]
    pieces = [np.concatenate([tone[a:b], np.zeros(int(0.08 * RATE), dtype=np.int16)]) for a, b in zip(cut, cut[1:])]
    recording = np.concatenate([np.zeros(int(0.1 * RATE), dtype=np.int16), *pieces])
    recording = np.concatenate([recording, np.zeros(int(1.5 * RATE) - recording.size, dtype=np.int16)])
    contrast, share = sc.tone_contrast(recording)
    assert contrast >= sc.HEARD_CONTRAST_DB and share >= sc.HEARD_SHARE


def test_noise_alone_is_not_the_beeps() -> None:
    noise = np.random.default_rng(2).normal(0, 1000, int(1.5 * RATE)).astype(np.int16)
    contrast, share = sc.tone_contrast(noise)
    assert contrast < sc.HEARD_CONTRAST_DB and share < sc.HEARD_SHARE


def test_the_calls_microphone_reads_the_sound_server_without_pyav_pulse(pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """drivers/audio/device.py: what the call records, 20 ms frames of 48 kHz mono from the server
    (the room's noise at -30 dBFS), through parec since PyAV's wheel has no "pulse"."""
    from drivers.audio import SAMPLES
    from drivers.audio.device import device_frames

    monkeypatch.setenv("PULSE_SERVER", pulse_server.address)
    frames = device_frames("room.monitor", "pulse")
    try:
        heard = [next(frames) for _ in range(25)]
    finally:
        frames.close()
    assert all(frame.shape == (SAMPLES,) and frame.dtype == np.int16 for frame in heard)
    rms = float(np.sqrt(np.mean(np.concatenate(heard[10:]).astype(np.float64) ** 2))) / 32768
    assert -34 < 20 * np.log10(rms) < -26
