"""The real microphone: PulseAudio/PipeWire through `parec`, ALSA through PyAV.

PyAV's wheels from PyPI are built without libpulse (`"pulse" not in av.formats_available`), so
the image's default backend reads the sound server with PulseAudio's own recorder (`parec`,
pulseaudio-utils, in the image), which reaches it through `PULSE_SERVER` like any client and
writes raw 48 kHz mono 16-bit samples: no resampling needed. A PyAV built with libpulse is used
when there is one."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import av
import numpy as np

from drivers.audio import RATE, SAMPLES


def device_frames(device: str, backend: str) -> Iterator[np.ndarray]:
    """The real microphone (PulseAudio/PipeWire or ALSA), 48 kHz mono frames of SAMPLES."""
    if backend == "pulse" and "pulse" not in av.formats_available:
        yield from _parec_frames(device)
        return
    container = av.open(device, format=backend)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE, frame_size=SAMPLES)
    try:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)
    finally:
        container.close()


def _parec_frames(device: str) -> Iterator[np.ndarray]:
    parec = shutil.which("parec")
    if parec is None:
        raise OSError("parec is missing (Debian package pulseaudio-utils)")
    args = [parec, "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--latency-msec=20"]
    if device and device != "default":
        args.append(f"--device={device}")
    recorder = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert recorder.stdout is not None
    try:
        while chunk := recorder.stdout.read(SAMPLES * 2):
            if len(chunk) < SAMPLES * 2:
                break
            yield np.frombuffer(chunk, dtype="<i2").copy()
        said = recorder.stderr.read().decode(errors="replace").strip() if recorder.stderr else ""
        raise OSError(f"parec stopped: {said or 'the sound server closed the stream'}")
    finally:
        recorder.kill()
        recorder.wait()
