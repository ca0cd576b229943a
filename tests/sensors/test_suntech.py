"""The SunTech blood-pressure module: its replies, from the bytes its sources quote, decode to the
values they document; garbage and corrupted replies resynchronise without a wrong value getting
through; any bytes never raise. On a real pseudo-terminal through SerialSensor: "measure" shows the
cuff inflating then the result; a loose cuff says so and gives no value; the cable pulled during a
measurement is absent, then back and measuring again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sensors.protocols import SERIAL_PROTOCOLS
from drivers.sensors.readings import Measurement, Reading
from drivers.sensors.serial_link import SerialSensor
from drivers.sensors.simulators import PtyPort, Simulator
from drivers.sensors.suntech import ABORT, GET_CUFF_PRESSURE, GET_RESULT, START_ADULT, NibpReplies, reply
from tests.loopback import eventually
from tests.sensors import listening as listening_module


def x(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# ak-git/DesktopFX, NIBPConverterTest and NIBPBytesInterceptorTest, each byte commented there after
# SunTech's specification: > 24, systolic 115, diastolic 74, 30 beats, BP status 1, test codes,
# heart rate 85, spare, MAP 88, error 0, two spares, checksum.
RESULT_115_74 = x("3E 18  73 00  4A 00  1E  01  00 00 00 00 00 00 31 07  55  00  58 00  00  00 00  E9")
PRESSURE_258 = x("3E 05 02 01 BA")  # "Module response for a cuff pressure of 258mmHg"
PRESSURE_BAD_CHECKSUM = x("3E 05 02 01 B1")  # the same tests: refused
DONE = x("3E 04 4B 73")  # K: the measurement over


def mmhg(quantity: str, value: float | None, flags: frozenset[str] = frozenset()) -> Reading:
    return Reading(quantity, value, "mm[Hg]", 0, flags)


def test_the_host_commands_are_the_sources_bytes() -> None:
    assert START_ADULT == x("3A 20 A6")  # DesktopFX START_BP
    assert GET_CUFF_PRESSURE == x("3A 79 05 00 48") and GET_RESULT == x("3A 79 03 00 4A")  # DesktopFX
    assert ABORT == x("3A 79 01 00 4C")  # Appciton stopMeasure: 79 01 00 under its checksum
    assert reply(0x4B) == DONE and reply(0x02, 0x01) == PRESSURE_258


def test_a_result_decodes_to_the_values_its_source_documents() -> None:
    [result] = NibpReplies().feed(RESULT_115_74)
    assert result == Measurement(
        (mmhg("systolic", 115), mmhg("diastolic", 74), mmhg("mean_pressure", 88), Reading("pulse_rate", 85, "/min", 0)),
        extra={"error_code": 0, "beats": 30, "bp_status": 1, "test_codes": "0000000000003107"})


def test_the_cuff_pressure_is_a_reading_only_while_measuring() -> None:
    decoder = NibpReplies()
    idle, accepted, inflating, done, after = decoder.feed(PRESSURE_258 + reply(ord("O")) + PRESSURE_258 + DONE + reply(0, 0))
    assert idle == Measurement((), flags=frozenset({"idle"}), extra={"cuff_pressure": 258})  # alive, nothing to show
    assert accepted.flags == {"accepted", "measuring"} and accepted.readings == ()
    assert inflating == Measurement((Reading("cuff_pressure", 258, "mm[Hg]", 0, frozenset({"measuring"})),), flags=frozenset({"measuring"}))
    assert done.flags == {"done"} and done.readings == ()
    assert after.readings == () and after.extra == {"cuff_pressure": 0}


def test_an_error_gives_its_words_and_no_value() -> None:
    loose = bytearray(RESULT_115_74)
    loose[20] = 87  # "Inflate timeout or air leak or loose cuff"
    loose[-1] = (loose[-1] - 87) & 0xFF
    [result] = NibpReplies().feed(bytes(loose))
    assert result.flags == {"cuff_loose", "measurement_unsuccessful"}
    assert [r.value for r in result.readings] == [None, None, None, None]  # never 115/74 with an error
    moved = reply(*[0] * 18, 2, 0, 0)  # error 2: artifact or erratic signal
    assert NibpReplies().feed(moved)[0].flags == {"movement", "measurement_unsuccessful"}


def test_garbage_and_corrupted_replies_resynchronise_without_a_wrong_value() -> None:
    decoder = NibpReplies()
    corrupt = bytearray(RESULT_115_74)
    corrupt[2] = 0x99  # systolic altered: its checksum no longer holds
    stream = x("00 3E 3E 05 FF") + bytes(corrupt) + PRESSURE_BAD_CHECKSUM + RESULT_115_74 + PRESSURE_258
    found = [m for i in range(0, len(stream), 7) for m in decoder.feed(stream[i:i + 7])]  # split anywhere
    assert [m.value("systolic") for m in found if m.reading("systolic")] == [115]
    assert [m.extra.get("cuff_pressure") for m in found if not m.readings] == [258]
    assert decoder.dropped >= len(stream) - len(RESULT_115_74) - len(PRESSURE_258)


@given(st.binary(max_size=300))
def test_any_bytes_never_raise(data: bytes) -> None:
    decoder = NibpReplies()
    for half in (data[: len(data) // 2], data[len(data) // 2:]):
        for found in decoder.feed(half):
            for reading in found.readings:
                assert reading.value is None or 0 <= reading.value <= 0xFFFF


@given(st.binary(max_size=60), st.binary(max_size=60))
def test_a_reply_between_garbage_arrives_whole(before: bytes, after: bytes) -> None:
    """Garbage may hide a reply of its own (an 8-bit checksum is all the protocol has), but never
    swallows or alters the real one that follows a complete garbage-free packet boundary."""
    decoder = NibpReplies()
    decoder.feed(before)
    decoder.feed(b"\x00" * 70)  # longer than any reply: whatever `before` began has ended or been dropped
    found = decoder.feed(RESULT_115_74 + after)
    assert found and found[0].value("systolic") == 115 and found[0].value("mean_pressure") == 88


# --- on a real pseudo-terminal, through SerialSensor ---------------------------------------------


class Seen(listening_module.Seen):
    def results(self) -> list[Measurement]:
        return self.with_reading("systolic")

    def cuff(self) -> list[float | None]:
        return self.values("cuff_pressure")


@pytest.fixture
def nibp(tmp_path: Path) -> Iterator[tuple[PtyPort, SerialSensor, Seen]]:
    with listening_module.listening(tmp_path / "usb-SunTech_NIBP-if00", Simulator("suntech-nibp", inflation_seconds=2.0),
                                    SERIAL_PROTOCOLS["suntech-nibp"], 1.0, Seen()) as found:
        yield found  # type: ignore[misc]


def test_an_idle_module_is_connected_not_silent(nibp: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = nibp
    eventually(lambda: sensor.state == "connected", what="connected")
    eventually(lambda: len(seen.measurements) > 12, what="polls answered for three seconds")  # 3× silent_after
    assert seen.states == ["connected"] and seen.results() == [] and seen.cuff() == []


def test_measure_shows_the_cuff_inflating_then_the_result(nibp: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = nibp
    device.simulator.vitals.systolic, device.simulator.vitals.diastolic, device.simulator.vitals.pulse = 142, 86, 66
    eventually(lambda: sensor.state == "connected")
    assert sensor.command("measure")
    eventually(lambda: seen.results(), what="a result")
    [result] = seen.results()
    assert (result.value("systolic"), result.value("diastolic"), result.value("mean_pressure"), result.value("pulse_rate")) == (142, 86, 105, 66)
    assert result.flags == frozenset()
    inflating = seen.cuff()
    assert inflating and max(p or 0 for p in inflating) > 100  # the cuff inflated before the result
    assert seen.measurements.index(result) > max(i for i, m in enumerate(seen.measurements) if m.reading("cuff_pressure"))
    assert sensor.state == "connected"


def test_a_loose_cuff_is_said_with_no_value(nibp: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = nibp
    device.simulator.vitals.cuff_loose = True
    eventually(lambda: sensor.state == "connected")
    assert sensor.command("measure")
    eventually(lambda: seen.results(), what="the module's verdict")
    [result] = seen.results()
    assert "cuff_loose" in result.flags and all(r.value is None for r in result.readings)
    assert max(p or 0 for p in seen.cuff()) < 20  # the cuff never held pressure


def inflating_for_a_while(device: PtyPort, sensor: SerialSensor, seen: Seen) -> None:
    """A measurement started that will not end by itself during the test, its cuff seen inflating."""
    device.simulator.device.inflation_seconds = 30  # type: ignore[attr-defined]
    eventually(lambda: sensor.state == "connected")
    assert sensor.command("measure")
    eventually(lambda: any((p or 0) > 50 for p in seen.cuff()), what="inflating")


def test_cancel_stops_the_measurement(nibp: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = nibp
    inflating_for_a_while(device, sensor, seen)
    assert sensor.command("cancel")
    eventually(lambda: seen.results(), what="the cancelled verdict")
    assert "cancelled" in seen.results()[0].flags and seen.results()[0].value("systolic") is None


def test_the_cable_pulled_mid_measurement_is_absent_then_back(nibp: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = nibp
    inflating_for_a_while(device, sensor, seen)
    device.pull()
    eventually(lambda: sensor.state == "absent", timeout=5, what="absent")
    assert not sensor.command("measure")  # nothing to write to
    assert seen.results() == []  # no value made up from half a measurement
    device.simulator.device.inflation_seconds = 1.0  # type: ignore[attr-defined]
    device.plug()
    eventually(lambda: sensor.state == "connected", timeout=10, what="reconnected")
    assert sensor.command("measure")
    eventually(lambda: seen.results(), what="a result after the reconnection")
    assert seen.results()[0].value("systolic") == device.simulator.vitals.systolic
    assert seen.states == ["connected", "absent", "connected"]
