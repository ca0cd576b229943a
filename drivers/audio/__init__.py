"""The cart's microphone: 20 ms frames of 48 kHz mono 16-bit samples, from the real device through
PyAV (`device`) or simulated (`simulator`). Both are blocking iterators that the microphone's
capture thread (agent/devices/microphone.py) reads, never the event loop."""

RATE = 48_000
SAMPLES = 960  # 20 ms
