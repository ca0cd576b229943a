"""Contec CMS50D+ pulse oximeter, live stream: bytes from the serial line in, measurements out,
no I/O. Two firmwares speak two formats; both resynchronise on garbage without letting a wrong
value through (a packet is taken only when every byte has the sync bit where it must be).

Older firmware, 19200 baud 8O1: 5-byte packets at 60 Hz. Byte 0 has bit 7 set, bytes 1-4 clear.
  0: bits 0-3 signal strength, 0x10 searching too long, 0x20 SpO2 dropping, 0x40 pulse beep
  1: plethysmogram 0-127      2: bits 0-3 bargraph, 0x10 probe error, 0x20 searching, 0x40 PR bit 7
  3: pulse rate bits 0-6      4: SpO2 (%; 127 when there is none)
  Source: atbrask/CMS50Dplus, `cms50dplus/cms50dplus.py` and its `unittests.py`.

Firmware 4.6 and later (CMS50D+ "v7", CMS50E), 115200 8N1: 9-byte packets at 60 a second, a type
byte with bit 7 clear (0x01 live data), a byte holding bit 7 of each of the next seven, then seven
bytes with bit 7 set. Live payload:
  0: bits 0-3 signal strength (0-8), 0x10 searching too long, 0x20 low SpO2, 0x40 pulse beep,
     0x80 probe error (finger out; the pleth then reads 0x40)
  1: bits 0-6 plethysmogram, 0x80 searching for a pulse
  2: bits 0-3 bargraph, 0x10 set when the perfusion index is NOT valid
  3: pulse rate (1-254, 0xFF none)     4: SpO2 (1-100, 0x7F none)
  5-6: perfusion index, hundredths of % (low byte first; above 22.00 % or 0xFFFF none)
The host starts the stream with `7D 81 A1 80 80 80 80 80 80`, stops it with `… A2 …`, and tells the
device it is still there with `… AF …` (the specification: once every 5 s); the device stops live
data about 30 s after it last heard from the host (bedsidemon re-sends A1 every ~15 s for that).
Sources: Contec's "Communication protocol of pulse oximeter V7.0" (2010), shipped in
gagistech/bedsidemon `doc/contec_cms50x/`, and that project's `src/sensors/spo2/contec_cms50d_plus.cpp`;
headrotor/contec_data `stream_data.py` for the commands.
"""

from __future__ import annotations

from drivers.sensors.readings import Measurement, Reading

OLD_BAUD, NEW_BAUD = 19200, 115200
START_LIVE = bytes.fromhex("7D81A1808080808080")
KEEP_ALIVE = bytes.fromhex("7D81AF808080808080")
STOP_LIVE = bytes.fromhex("7D81A2808080808080")


NOT_MEASURING = {"sensor_off", "searching"}


def _vitals(strength: int, pleth: int, pulse: int | None, spo2: int | None, flags: set[str]) -> list[Reading]:
    status = frozenset(flags)
    if status & NOT_MEASURING:  # no finger, or still looking for a pulse: whatever the bytes say is not a value
        pulse = spo2 = None
    return [Reading("spo2", None if spo2 is None or spo2 > 100 else float(spo2), "%", 0, status),
            Reading("pulse_rate", None if pulse is None else float(pulse), "/min", 0, status),
            Reading("pleth", float(pleth), "1", 0), Reading("signal_strength", float(strength), "1", 0)]


class OldFormat:
    """The 5-byte stream; `feed()` takes whatever the serial port gave and returns whole packets."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0  # bytes thrown away while looking for a packet start

    def feed(self, data: bytes) -> list[Measurement]:
        self._buffer += data
        found = []
        while len(self._buffer) >= 5:
            if not self._buffer[0] & 0x80 or any(b & 0x80 for b in self._buffer[1:5]):
                del self._buffer[0]  # not a packet start here: one byte further
                self.dropped += 1
                continue
            b0, pleth, b2, pr_low, spo2 = self._buffer[:5]
            del self._buffer[:5]
            flags = {name for bit, name in ((0x10, "searching_too_long"), (0x20, "spo2_dropping"), (0x40, "beat")) if b0 & bit}
            flags |= {name for bit, name in ((0x10, "sensor_off"), (0x20, "searching")) if b2 & bit}
            pulse = pr_low | (0x80 if b2 & 0x40 else 0)
            found.append(Measurement(tuple(_vitals(b0 & 0x0F, pleth, None if pulse == 255 else pulse, spo2, flags)),
                                     flags=frozenset(flags), extra={"bargraph": b2 & 0x0F}))
        return found


class NewFormat:
    """The 9-byte stream of firmware 4.6+; packets of other types (stored data, answers) are skipped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[Measurement]:
        self._buffer += data
        found = []
        while len(self._buffer) >= 9:
            kind, high = self._buffer[0], self._buffer[1]
            if kind & 0x80 or not high & 0x80 or not all(b & 0x80 for b in self._buffer[2:9]):
                del self._buffer[0]
                self.dropped += 1
                continue
            payload = [(b & 0x7F) | (0x80 if high & (1 << i) else 0) for i, b in enumerate(self._buffer[2:9])]
            del self._buffer[:9]
            if kind != 0x01:
                continue
            b0, b1, b2, pulse, spo2, pi_low, pi_high = payload
            flags = {name for bit, name in ((0x10, "searching_too_long"), (0x20, "spo2_low"), (0x40, "beat"), (0x80, "sensor_off"))
                     if b0 & bit}
            if b1 & 0x80:
                flags.add("searching")
            readings = _vitals(b0 & 0x0F, b1 & 0x7F, None if pulse == 0xFF else pulse, spo2, flags)
            pi = pi_low | pi_high << 8
            if not b2 & 0x10 and not flags & NOT_MEASURING:  # bit 4 set: the device says its PI is not valid
                readings.append(Reading("perfusion_index", pi / 100 if 0 < pi <= 2200 else None, "%", 2, frozenset(flags)))
            found.append(Measurement(tuple(readings), flags=frozenset(flags), extra={"bargraph": b2 & 0x0F}))
        return found
