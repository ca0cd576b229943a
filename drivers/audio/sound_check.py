"""The technician's sound test (issue 14): the cart plays three short soft beeps at 1 kHz on its
loudspeaker while it records its microphone, then says in French whether the loudspeaker played,
how loud the microphone is and whether it heard the beeps.

`check_sound` never raises for a sound problem (no sound server, no such microphone, a busy
device, a tool missing, too slow): each becomes a French message in the `SoundCheck` it returns,
in bounded time. It never blocks the event loop: the PulseAudio side runs
`pacat`/`parec` (pulseaudio-utils, on the image) as subprocesses, the ALSA side runs PyAV in
threads.

Why not PyAV for PulseAudio, as `device.py` does: the PyPI wheels of PyAV are built without
libpulse (`"pulse" not in av.formats_available`: neither the `pulse` input nor the `pulse` output
exists), so the test speaks to the sound server through PulseAudio's own clients, which reach the
same server (`PULSE_SERVER`, or `server=`). `call_reader_error` says when the call's own reader
(PyAV with the configured backend) cannot open the microphone at all, so a passing test does not
hide a silent call.

With `[media] echo_cancel = "pipewire"` the call records `echo-cancel-source`, from which the
canceller removes what the loudspeaker plays: that source is *meant* not to hear the beeps. Test
the raw microphone (its PulseAudio source name, or `default`) to know whether the loudspeaker
reaches it.

numpy and PyAV are imported when a check runs: the technician's page and its schemas import
this module at the agent's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.audio import RATE

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("drivers.audio.sound_check")

# The test tone: three 150 ms beeps at 1 kHz, one every 400 ms, at -12 dBFS with 10 ms fades (no
# clicks): audible across a room without startling a resident.
TONE_HZ = 1000.0
BEEPS = 3
BEEP_SECONDS = 0.15
BEEP_PERIOD = 0.4
TONE_DBFS = -12.0
FADE_SECONDS = 0.01
TONE_SECONDS = (BEEPS - 1) * BEEP_PERIOD + BEEP_SECONDS

# Time allowed on top of `seconds` for the sound server to answer and the recorder to start.
STARTUP_SECONDS = 3.0
FLOOR_DBFS = -120.0  # what digital silence is reported as (no -inf in JSON)
SILENT_PEAK_DBFS = -70.0  # a microphone whose loudest sample stays below this sends nothing
HEARD_CONTRAST_DB = 10.0  # 1 kHz energy during the beeps versus between them (tone_contrast)
HEARD_SHARE = 0.2  # and at least this share of all the energy during the beeps is at 1 kHz
MAX_CONTRAST_DB = 60.0  # reported contrasts are clipped to ±this (digital silence between beeps)

_FRAME = RATE // 100  # 10 ms analysis frames: 100 Hz bins, 1 kHz exactly on bin 10

NO_SERVER = "Aucun serveur de son (PipeWire ne répond pas)"
NO_OUTPUT = "Aucune sortie son"
NO_PERMISSION = "Accès au son refusé"
MICROPHONE_BUSY = "Micro occupé par un autre programme"
TOOLS_MISSING = "Outils PulseAudio absents (paquet pulseaudio-utils)"
TOO_SLOW = "Le son n'a pas répondu à temps"
UNEXPECTED = "Erreur inattendue pendant le test du son"

VERDICT_OK = "Haut-parleur et micro fonctionnent"
VERDICT_NO_SERVER = "Aucun serveur de son : ni haut-parleur ni micro"
VERDICT_SILENT = "Micro muet : il n'envoie aucun son (coupé ou débranché ?)"
VERDICT_NOT_HEARD = "Le micro n'entend pas le haut-parleur (volume coupé ou trop bas, haut-parleur débranché ?)"


def no_microphone(device: str) -> str:
    return f"Micro introuvable : « {device or 'default'} »"


@dataclass(frozen=True)
class SoundCheck:
    """What the technician's page shows. Levels are None when the microphone could not be read."""

    played: bool
    playback_error: str | None
    microphone_error: str | None
    peak_dbfs: float | None
    rms_dbfs: float | None
    silent: bool
    tone_heard: bool
    tone_contrast_db: float | None  # 1 kHz energy during the beeps versus between them
    call_reader_error: str | None  # the call's reader (PyAV, same backend) cannot open it at all
    elapsed: float  # seconds the check took
    verdict: str
    ok: bool


async def check_sound(
    device: str,
    backend: str,
    *,
    output: str | None = None,
    server: str | None = None,
    seconds: float = 2.0,
) -> SoundCheck:
    """Play the test tone on `output` (None: the default output) while recording `device` with
    `backend` ("pulse" or "alsa", as `[media] audio_backend`); `server` is a PulseAudio server
    address (None: `PULSE_SERVER` or the default). `seconds` of microphone are recorded (at least
    the beeps and half a second for the delay); the check gives up at `seconds + STARTUP_SECONDS`,
    plus at most a second and a half to stop what is stuck."""
    started = time.monotonic()
    seconds = max(seconds, TONE_SECONDS + 0.5)
    deadline = started + seconds + STARTUP_SECONDS
    playback: _Outcome = _Outcome()
    recording: _Outcome = _Outcome()
    try:
        if backend == "pulse":
            playback, recording = await _pulse(device, output, server, seconds, deadline)
        elif backend == "alsa":
            playback, recording = await _alsa(device, output, seconds, deadline)
        else:
            playback.error = recording.error = f"Mode de son inconnu : « {backend} »"
    except Exception:
        log.exception("sound check failed")
        playback.error = playback.error or (None if playback.done else UNEXPECTED)
        recording.error = recording.error or UNEXPECTED
    return _result(recording, playback, _call_reader_error(backend), time.monotonic() - started)


class _Outcome:
    """One side of the test as it goes: samples (recording), done, and a French error."""

    def __init__(self) -> None:
        self.done = False
        self.error: str | None = None
        self.samples: np.ndarray | None = None


def tone() -> np.ndarray:
    """The test tone as 48 kHz mono 16-bit samples."""
    import numpy as np

    t = np.arange(int(TONE_SECONDS * RATE)) / RATE
    on = np.zeros_like(t)
    fade = int(FADE_SECONDS * RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    length = int(BEEP_SECONDS * RATE)
    envelope = np.ones(length)
    envelope[:fade], envelope[-fade:] = ramp, ramp[::-1]
    for beep in range(BEEPS):
        start = int(beep * BEEP_PERIOD * RATE)
        on[start : start + length] = envelope
    amplitude = 32767 * 10 ** (TONE_DBFS / 20)
    return (amplitude * on * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)


# --- PulseAudio (PipeWire's pulse service): pacat and parec ---------------------------------------


async def _pulse(device: str, output: str | None, server: str | None, seconds: float, deadline: float) -> tuple[_Outcome, _Outcome]:
    common = ["--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--client-name=Telecart"]
    if server:
        common.append(f"--server={server}")
    playback, recording = _Outcome(), _Outcome()
    record_args = ["parec", *common, "--latency-msec=20", "--stream-name=Test du micro"]
    if device and device != "default":
        record_args.append(f"--device={device}")
    play_args = ["pacat", "--playback", *common, "--latency-msec=100", "--stream-name=Test du haut-parleur"]
    if output and output != "default":
        play_args.append(f"--device={output}")

    try:
        recorder = await asyncio.create_subprocess_exec(
            *record_args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        playback.error = recording.error = TOOLS_MISSING
        return playback, recording
    buffer = bytearray()
    wanted = int(seconds * RATE) * 2
    first = asyncio.Event()

    async def read() -> None:
        assert recorder.stdout is not None
        while len(buffer) < wanted:
            chunk = await recorder.stdout.read(65536)
            if not chunk:
                return
            buffer.extend(chunk)
            first.set()

    reader = asyncio.ensure_future(read())
    player: asyncio.subprocess.Process | None = None
    try:
        # Play once the microphone is recording (or has failed), so the beeps fall in the recording.
        waiter = asyncio.ensure_future(first.wait())
        await asyncio.wait({reader, waiter}, timeout=_left(deadline), return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        try:
            player = await asyncio.create_subprocess_exec(
                *play_args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
        except FileNotFoundError:
            playback.error = TOOLS_MISSING
        else:
            await _play(player, tone().astype("<i2").tobytes(), playback, deadline)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_left(deadline)):
                await asyncio.shield(reader)
    finally:
        reader.cancel()
        for process in (recorder, player):
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        for process in (recorder, player):
            if process is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await process.wait()
    if buffer:
        import numpy as np

        recording.samples = np.frombuffer(bytes(buffer[: len(buffer) // 2 * 2]), dtype="<i2").astype(np.int16)
    elif recorder.returncode is not None and recorder.returncode >= 0:  # parec gave up by itself
        recording.error = _pulse_error(await _stderr(recorder), "record", device)
    else:
        recording.error = TOO_SLOW
    recording.done = True
    return playback, recording


async def _play(player: asyncio.subprocess.Process, data: bytes, playback: _Outcome, deadline: float) -> None:
    assert player.stdin is not None
    try:
        player.stdin.write(data)
        async with asyncio.timeout(_left(deadline)):
            await player.stdin.drain()
            player.stdin.close()
            await player.wait()
    except (BrokenPipeError, ConnectionResetError):
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_left(deadline)):
                await player.wait()
    except TimeoutError:
        playback.error = TOO_SLOW
        return
    if player.returncode == 0:
        playback.done = True
    else:
        playback.error = _pulse_error(await _stderr(player), "play", "")


async def _stderr(process: asyncio.subprocess.Process) -> str:
    if process.stderr is None:
        return ""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            return (await process.stderr.read()).decode(errors="replace")
    return ""


def _pulse_error(stderr: str, side: str, device: str) -> str:
    """pacat's and parec's English errors, in French."""
    text = stderr.lower()
    if "access denied" in text:
        return NO_PERMISSION
    if "connection" in text or "pa_context_connect" in text:
        return NO_SERVER
    if "no such entity" in text:
        return NO_OUTPUT if side == "play" else no_microphone(device)
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else "sans message"
    return f"{'Sortie son' if side == 'play' else 'Micro'} en erreur : {detail}"


# --- ALSA: PyAV in threads, the microphone read by the call's own reader (device_frames) ----------


async def _alsa(device: str, output: str | None, seconds: float, deadline: float) -> tuple[_Outcome, _Outcome]:
    import av
    import numpy as np

    from drivers.audio.device import device_frames

    loop = asyncio.get_running_loop()
    playback, recording = _Outcome(), _Outcome()
    stop = threading.Event()
    recording_started, recording_ended, playback_ended = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def signal(event: asyncio.Event) -> Callable[[], None]:
        def fire() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
                loop.call_soon_threadsafe(event.set)

        return fire

    chunks: list[np.ndarray] = []
    wanted = int(seconds * RATE)

    def record() -> None:
        frames = None
        try:
            frames = device_frames(device or "default", "alsa")
            got = 0
            for samples in frames:
                chunks.append(samples)
                got += len(samples)
                if got == len(samples):
                    signal(recording_started)()
                if got >= wanted or stop.is_set():
                    break
        except Exception as exc:
            recording.error = _av_error(exc, "record", device)
        finally:
            if frames is not None:
                with contextlib.suppress(Exception):
                    frames.close()
            signal(recording_ended)()

    def play() -> None:
        try:
            container = av.open(output or "default", mode="w", format="alsa")
            try:
                stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
                frame = av.AudioFrame.from_ndarray(tone().reshape(1, -1), format="s16", layout="mono")
                frame.rate = RATE
                for packet in stream.encode(frame):
                    container.mux(packet)
                for packet in stream.encode(None):
                    container.mux(packet)
            finally:
                container.close()
            playback.done = True
        except Exception as exc:
            playback.error = _av_error(exc, "play", output or "")
        finally:
            signal(playback_ended)()

    threading.Thread(target=record, name="sound-check-record", daemon=True).start()
    try:
        await _until(deadline, recording_started, recording_ended)
        threading.Thread(target=play, name="sound-check-play", daemon=True).start()
        if not await _until(deadline, playback_ended):
            playback.error = TOO_SLOW
        if not await _until(deadline, recording_ended):
            stop.set()
            await _until(time.monotonic() + 0.5, recording_ended)
    finally:
        stop.set()
    samples = list(chunks)
    if samples:
        recording.samples = np.concatenate(samples).astype(np.int16)
    elif recording.error is None:
        recording.error = TOO_SLOW
    recording.done = True
    return playback, recording


async def _until(deadline: float, *events: asyncio.Event) -> bool:
    """Whether one of `events` was set before `deadline`."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=_left(deadline), return_when=asyncio.FIRST_COMPLETED)
        return bool(done)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _av_error(exc: Exception, side: str, device: str) -> str:
    if isinstance(exc, ValueError) and "no container format" in str(exc):
        return "PyAV ne sait pas utiliser ALSA ici"
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        return NO_PERMISSION
    if code == errno.EBUSY:
        return MICROPHONE_BUSY if side == "record" else "Sortie son occupée par un autre programme"
    if isinstance(exc, OSError):
        return NO_OUTPUT if side == "play" else no_microphone(device)
    log.warning("sound check (%s): %r", side, exc)
    return UNEXPECTED


def _call_reader_error(backend: str) -> str | None:
    if backend == "pulse":  # device.py falls back on parec, which this test has just used
        return None
    if backend == "alsa":
        import av

        if backend not in av.formats_available:
            return f"L'appel ne peut pas lire le micro : PyAV est installé sans « {backend} »"
    return None


# --- the analysis and the verdict -----------------------------------------------------------------


def _dbfs(value: float) -> float:
    import numpy as np

    return round(max(FLOOR_DBFS, float(20 * np.log10(value / 32768))), 1) if value > 0 else FLOOR_DBFS


def levels(samples: np.ndarray) -> tuple[float, float]:
    """Peak and RMS of 16-bit samples in dBFS (FLOOR_DBFS for digital silence)."""
    if samples.size == 0:
        return FLOOR_DBFS, FLOOR_DBFS
    import numpy as np

    x = samples.astype(np.float64)
    return _dbfs(float(np.max(np.abs(x)))), _dbfs(float(np.sqrt(np.mean(x * x))))


def tone_contrast(samples: np.ndarray) -> tuple[float, float]:
    """(contrast in dB, share) of the 1 kHz band over the beeps' windows: the 10 ms frames where
    that band is loudest, as many as the beeps fill, against the quieter half of the frames; and
    the share of all the energy in those frames that is at 1 kHz. The frames are found, not
    expected at fixed times: the delay of the loudspeaker and microphone is not known in advance,
    and a loaded machine plays the beeps late or with gaps. A steady hum at 1 kHz has no
    contrast; noise has no share."""
    count = samples.size // _FRAME
    beep_frames = BEEPS * round(BEEP_SECONDS * 100)
    if count < 2 * beep_frames:
        return 0.0, 0.0
    import numpy as np

    frames = samples[: count * _FRAME].astype(np.float64).reshape(count, _FRAME) * np.hanning(_FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bin_ = round(TONE_HZ * _FRAME / RATE)
    at_tone = power[:, bin_ - 1 : bin_ + 2].sum(axis=1)
    order = np.argsort(at_tone)
    beeps, between = order[-beep_frames:], order[: count // 2]
    tiny = 1e-3
    contrast = float(10 * np.log10((at_tone[beeps].mean() + tiny) / (at_tone[between].mean() + tiny)))
    share = float(at_tone[beeps].sum() / (power[beeps].sum() + tiny))
    return round(min(max(contrast, -MAX_CONTRAST_DB), MAX_CONTRAST_DB), 1), share


def _result(recording: _Outcome, playback: _Outcome, call_reader_error: str | None, elapsed: float) -> SoundCheck:
    peak = rms = contrast = None
    silent = heard = False
    microphone_error = recording.error
    samples = recording.samples
    if samples is not None and samples.size:
        peak, rms = levels(samples)
        silent = bool(peak < SILENT_PEAK_DBFS)
        contrast, share = tone_contrast(samples)
        heard = playback.done and not silent and contrast >= HEARD_CONTRAST_DB and share >= HEARD_SHARE
        if not (silent or heard) and samples.size < int((TONE_SECONDS + 0.1) * RATE):
            microphone_error = TOO_SLOW  # cut before the beeps could all be heard: no verdict on them
    elif microphone_error is None:
        microphone_error = TOO_SLOW
    verdict = _verdict(playback.done, playback.error, microphone_error, silent, heard)
    ok = playback.done and heard and call_reader_error is None
    if call_reader_error and microphone_error is None and not silent:
        verdict = f"{verdict} ; mais {call_reader_error[0].lower()}{call_reader_error[1:]}"
    return SoundCheck(
        played=playback.done,
        playback_error=None if playback.done else (playback.error or UNEXPECTED),
        microphone_error=microphone_error,
        peak_dbfs=peak,
        rms_dbfs=rms,
        silent=silent,
        tone_heard=heard,
        tone_contrast_db=contrast,
        call_reader_error=call_reader_error,
        elapsed=round(elapsed, 2),
        verdict=verdict,
        ok=ok,
    )


def _verdict(played: bool, playback_error: str | None, microphone_error: str | None, silent: bool, heard: bool) -> str:
    if not played and playback_error == microphone_error:  # one cause for both: said once
        return VERDICT_NO_SERVER if playback_error == NO_SERVER else (playback_error or UNEXPECTED)
    if not played:
        output = playback_error or UNEXPECTED
        if microphone_error:
            return f"{output} ; micro indisponible : {microphone_error}"
        return f"{output} ; micro muet" if silent else f"{output} ; le micro fonctionne"
    if microphone_error:
        return f"Le haut-parleur joue ; micro indisponible : {microphone_error}"
    if silent:
        return VERDICT_SILENT
    return VERDICT_OK if heard else VERDICT_NOT_HEARD


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


