"""Nonin OEM III pulse oximetry module, serial data format #2: bytes in, measurements out, no I/O.

9600 baud 8N1. A frame is five bytes, `01 STATUS PLETH FLOAT CHK`, CHK = the sum of the first
four mod 256; 75 frames a second; 25 frames make a packet, whose first frame has STATUS bit 0
(SYNC). STATUS: bit 7 always set; 0x40 sensor disconnected, 0x20 artifact, 0x10 out of track,
0x08 sensor alarm, bits 1-2 perfusion (01 green/high, 10 red/low, 11 yellow/marginal).
FLOAT by frame of the packet (1-based): 1 and 2 the heart rate's high and low parts (9 bits,
511 = missing), 3 SpO2 (127 = missing), 4 the firmware revision, further frames the extended
values (not read here).

Source: pez-globo/pufferfish-software, `Core/{Src,Inc,Test}/Pufferfish/Driver/Serial/Nonin/`
(its FrameReceiver, the test frames used in tests/sensors/test_serial_oximeters.py), after the
Nonin OEM III specification it links.
"""

from __future__ import annotations

from drivers.sensors.readings import Measurement, Reading

BAUD = 9600
FRAMES_PER_PACKET = 25
PERFUSION = {1: "perfusion_high", 2: "perfusion_low", 3: "perfusion_marginal"}


def _frame_ok(frame: bytes | bytearray) -> bool:
    return frame[0] == 0x01 and bool(frame[1] & 0x80) and sum(frame[:4]) & 0xFF == frame[4]


class FormatTwo:
    """`feed()` returns a pleth measurement per frame, and the heart rate and SpO2 once a packet
    has given them (frame 3), with that packet's status."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._index: int | None = None  # position in the packet of the next frame, once SYNC was seen
        self._hr_high = 0
        self._heart_rate: int | None = None
        self.dropped = 0

    def feed(self, data: bytes) -> list[Measurement]:
        self._buffer += data
        found = []
        while len(self._buffer) >= 5:
            if not _frame_ok(self._buffer[:5]):
                del self._buffer[0]  # garbage, or a frame cut short: resynchronise a byte further
                self.dropped += 1
                self._index = None
                continue
            _, status, pleth, value, _ = self._buffer[:5]
            del self._buffer[:5]
            if status & 0x01:
                self._index = 1
            elif self._index is not None:
                self._index += 1
                if self._index > FRAMES_PER_PACKET:  # a SYNC missed: wait for the next one
                    self._index = None
            flags = {name for bit, name in ((0x40, "sensor_off"), (0x20, "artifact"), (0x10, "out_of_track"), (0x08, "sensor_alarm"))
                     if status & bit}
            if status & 0x06:
                flags.add(PERFUSION[(status >> 1) & 0x03])
            readings = [Reading("pleth", float(pleth), "1", 0)]
            if self._index == 1:
                self._hr_high = value
            elif self._index == 2:
                rate = ((self._hr_high & 0x03) << 7) | (value & 0x7F)
                self._heart_rate = None if rate == 511 else rate
            elif self._index == 3:
                spo2 = None if value == 127 or value > 100 else value
                readings += [Reading("pulse_rate", None if self._heart_rate is None else float(self._heart_rate), "/min", 0, frozenset(flags)),
                             Reading("spo2", None if spo2 is None else float(spo2), "%", 0, frozenset(flags))]
            found.append(Measurement(tuple(readings), flags=frozenset(flags),
                                     extra={"firmware": value} if self._index == 4 else {}))
        return found
