"""A serial oximeter on a real pseudo-terminal, read through pyserial as on the cart: the values the
simulated device writes arrive; noise on the line never lets a wrong value through; a device that
stops talking is silent, not its last value; the cable pulled and plugged back in reconnects by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.sensors.protocols import SERIAL_PROTOCOLS
from drivers.sensors.serial_link import SerialSensor
from drivers.sensors.simulators import PtyPort, Simulator
from tests.loopback import eventually
from tests.sensors.listening import Seen, listening


@pytest.fixture
def contec(tmp_path: Path) -> Iterator[tuple[PtyPort, SerialSensor, Seen]]:
    with listening(tmp_path / "usb-Contec_CMS50D+-if00", Simulator("contec-cms50d"), SERIAL_PROTOCOLS["contec-cms50d"], 1.0) as found:
        yield found


def test_the_values_written_arrive_and_noise_lets_no_wrong_value_through(contec: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = contec
    eventually(lambda: sensor.state == "connected", what="connected")
    eventually(lambda: len(seen.values("spo2")) > 30, what="a second of packets")
    device.simulator.vitals.spo2, device.simulator.vitals.pulse = 91, 133  # PR above 127: its bit 7 in byte 2
    eventually(lambda: seen.values("spo2")[-1] == 91 and seen.values("pulse_rate")[-1] == 133, what="new values")
    device.noise = lambda: bytes([0x8F, 0x13])  # a stray sync byte and garbage before every packet
    before = len(seen.measurements)
    time.sleep(1.0)
    noisy = seen.values("spo2")[before:] + seen.values("pulse_rate")[before:]
    assert noisy and set(noisy) <= {91.0, 133.0}, set(noisy)  # resynchronised: only what the device said


def test_a_device_that_stops_talking_is_silent_then_back(contec: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = contec
    eventually(lambda: sensor.state == "connected")
    device.paused = True
    eventually(lambda: sensor.state == "silent", timeout=5, what="silent")
    device.paused = False
    eventually(lambda: sensor.state == "connected", timeout=5)


def test_the_cable_pulled_and_plugged_back_reconnects_by_itself(contec: tuple[PtyPort, SerialSensor, Seen]) -> None:
    device, sensor, seen = contec
    eventually(lambda: sensor.state == "connected")
    device.pull()
    eventually(lambda: sensor.state == "absent", timeout=5, what="absent")
    device.simulator.vitals.spo2 = 94
    device.plug()  # a new terminal behind the same by-id name
    eventually(lambda: sensor.state == "connected", timeout=10, what="reconnected")
    eventually(lambda: seen.values("spo2")[-1] == 94)
    assert "absent" in seen.states and seen.states[-1] == "connected"
    assert seen.reasons[seen.states.index("absent")] == "débranché ou éteint"  # said for the nurse, not errno


@pytest.mark.parametrize("name", sorted(SERIAL_PROTOCOLS))
def test_every_protocol_has_a_simulator_its_sensor_reads(tmp_path: Path, name: str) -> None:
    """What `--simulate` relies on: each protocol's simulated device, greeted and kept alive by the
    sensor as the protocol says, is connected and its messages arrive."""
    device = PtyPort(tmp_path / f"usb-{name}-if00", Simulator(name)).plug()
    seen = Seen()
    sensor = SerialSensor(str(device.link), SERIAL_PROTOCOLS[name], seen.measurement, seen.state)
    sensor.start()
    try:
        eventually(lambda: sensor.state == "connected" and len(seen.measurements) > 3, what=f"{name} connected")
        assert sensor.command("no-such-command") is False
    finally:
        sensor.stop()
        device.pull()


def test_a_nonin_finger_out_is_said_without_values(tmp_path: Path) -> None:
    device = PtyPort(tmp_path / "usb-Nonin-if00", Simulator("nonin-oem3")).plug()
    seen = Seen()
    sensor = SerialSensor(str(device.link), SERIAL_PROTOCOLS["nonin-oem3"], seen.measurement, seen.state)
    sensor.start()
    try:
        eventually(lambda: seen.values("spo2")[-3:] == [97.0, 97.0, 97.0], what="three packets")
        device.simulator.vitals.finger_in = False
        eventually(lambda: any("sensor_off" in m.flags for m in seen.measurements[-10:]), what="finger out said")
        eventually(lambda: seen.values("spo2")[-1] is None and seen.values("pulse_rate")[-1] is None)
    finally:
        sensor.stop()
        device.pull()
