"""SunTech Medical's OEM blood-pressure module (the Advantage series of NIBP modules built into
monitors): the module's replies in, measurements out, no I/O.

9600 baud 8N1, binary. The host speaks first; every packet ends with a checksum byte that brings
the 8-bit sum of the whole packet (start byte included) to zero.
  host → module: `3A` (":"), the command, its data, checksum
    3A 20 A6            start an adult measurement
    3A 79 01 00 4C      abort the measurement
    3A 79 05 00 48      ask the cuff pressure
    3A 79 03 00 4A      ask the last measurement's result
  module → host: `3E` (">"), the packet's whole length (4 to 67), the data, checksum
    length 4: an acknowledgement letter: O the command received (a measurement starting),
              K executed (the measurement over: its result can be asked), A abort received, B busy
    length 5: the cuff pressure, mmHg, signed 16 bits low byte first (-1: none)
    length 24: the result: systolic (u16 LE), diastolic (u16 LE), heart beats counted, BP status,
              8 test codes, heart rate (u8), a spare byte, MAP (u16 LE), the error code, 2 spare bytes
Error codes (decimal): 1 weak or no oscillometric signal, 2 artifact or erratic signal, 3 blood
pressure out of range, 4 measurement time exceeded, 85 pneumatic blockage, 86 stopped by the user,
87 inflate timeout, air leak or loose cuff, 88 safety timeout, 89 cuff overpressure, 90 power
supply or other hardware problem, 91 permission problem (safety override, autozero out of range),
97 transducer out of range, 99 EEPROM calibration data failure.

The module says nothing of its own but the `K` that ends a measurement: the host polls the cuff
pressure (a few times a second: Appciton every 200 ms) and asks the result once `K` came.

Sources: ak-git/DesktopFX, `com/ak/appliance/suntech/comm/` (its requests, and its tests, which
quote SunTech's interface specification field by field for the 5- and 24-byte replies used in
tests/sensors/test_suntech.py); 519984307/Appciton, `Providers/SuntechProvider/SuntechProvider.cpp`
(the acknowledgement letters, the abort and result commands, the error codes: its `ErrCode` enum
has them right in hex, 0x55 = 85; its `isResult` switch writes the decimal codes as hex literals,
0x85, which never match). The tincho77/NIBP-ABATON module was the first candidate: that
repository documents only three commands and none of the module's replies.
"""

from __future__ import annotations

from drivers.sensors.readings import Measurement, Reading

BAUD = 9600
HOST_START, MODULE_START = 0x3A, 0x3E
MAX_PACKET = 67


def _checked(frame: bytes) -> bytes:
    return frame + bytes([-sum(frame) & 0xFF])


def command(*body: int) -> bytes:
    """A host packet: `:`, the command and its data, the checksum."""
    return _checked(bytes([HOST_START, *body]))


def reply(*body: int) -> bytes:
    """A module packet: `>`, the length, the data, the checksum (what the simulator writes)."""
    return _checked(bytes([MODULE_START, len(body) + 3, *body]))


START_ADULT = command(0x20)
ABORT = command(0x79, 0x01, 0x00)
GET_CUFF_PRESSURE = command(0x79, 0x05, 0x00)
GET_RESULT = command(0x79, 0x03, 0x00)

ACKNOWLEDGED = {ord("O"): "accepted", ord("K"): "done", ord("A"): "aborting", ord("B"): "busy"}
ERRORS = {1: "poor_signal", 2: "movement", 3: "out_of_range", 4: "timeout", 85: "pneumatic_blockage", 86: "cancelled",
          87: "cuff_loose", 88: "timeout", 89: "overpressure", 90: "equipment_malfunction", 91: "autozero_fault",
          97: "transducer_out_of_range", 99: "calibration_fault"}
RESULT_LENGTH, PRESSURE_LENGTH, ACK_LENGTH = 24, 5, 4


def _mmhg(quantity: str, value: int, flags: frozenset[str]) -> Reading:
    return Reading(quantity, float(value) if value > 0 else None, "mm[Hg]", 0, flags)


class NibpReplies:
    """`feed()` takes what the serial port gave and returns one measurement per reply: the cuff
    pressure while a measurement runs (flag `measuring`), the result (values, or the error's
    words and no value), and the acknowledgements and idle pressures as status only (no
    readings): each still proves the module is there."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.measuring = False  # between the module's O (a measurement accepted) and its K or A
        self.dropped = 0

    def feed(self, data: bytes) -> list[Measurement]:
        self._buffer += data
        found = []
        while len(self._buffer) >= 2:
            length = self._buffer[1]
            if self._buffer[0] != MODULE_START or not ACK_LENGTH <= length <= MAX_PACKET:
                del self._buffer[0]  # not a reply's start: one byte further
                self.dropped += 1
                continue
            if len(self._buffer) < length:
                break  # the rest has yet to come
            packet = bytes(self._buffer[:length])
            if sum(packet) & 0xFF:
                del self._buffer[0]  # a stray ">" or a corrupted reply: look further, inside it too
                self.dropped += 1
                continue
            del self._buffer[:length]
            found.append(self._decode(packet))
        return found

    def _decode(self, packet: bytes) -> Measurement:
        body = packet[2:-1]
        if len(packet) == ACK_LENGTH:
            said = ACKNOWLEDGED.get(body[0], "answered")
            if said == "accepted":
                self.measuring = True
            elif said in ("done", "aborting"):
                self.measuring = False
            return Measurement((), flags=frozenset({said} | ({"measuring"} if self.measuring else set())),
                               extra={"ack": chr(body[0])})
        if len(packet) == PRESSURE_LENGTH:
            pressure = int.from_bytes(body[:2], "little", signed=True)
            if not self.measuring:
                return Measurement((), flags=frozenset({"idle"}), extra={"cuff_pressure": pressure})
            flags = frozenset({"measuring"})
            return Measurement((Reading("cuff_pressure", float(pressure) if pressure >= 0 else None, "mm[Hg]", 0, flags),), flags=flags)
        if len(packet) == RESULT_LENGTH:
            self.measuring = False
            systolic, diastolic = int.from_bytes(body[0:2], "little"), int.from_bytes(body[2:4], "little")
            beats, status, tests, rate = body[4], body[5], body[6:14], body[14]
            mean, error = int.from_bytes(body[16:18], "little"), body[18]
            flags = frozenset({ERRORS.get(error, "error"), "measurement_unsuccessful"} if error else ())
            if error:  # no value comes with an error, whatever the bytes hold
                systolic = diastolic = mean = rate = 0
            readings = (_mmhg("systolic", systolic, flags), _mmhg("diastolic", diastolic, flags), _mmhg("mean_pressure", mean, flags),
                        Reading("pulse_rate", float(rate) if rate else None, "/min", 0, flags))
            return Measurement(readings, flags=flags,
                               extra={"error_code": error, "beats": beats, "bp_status": status, "test_codes": tests.hex()})
        return Measurement((), extra={"reply": packet.hex()})  # a reply not read here (the version string…): still alive
