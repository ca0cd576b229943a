"""The Contec CMS50D+ v7 on a real pseudo-terminal, through SerialSensor: it says nothing until the
host asks for live data, and stops when the host stops saying it is there; the sensor's greeting
and keep-alive keep it streaming well past the device's timeout, across a replug too."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from drivers.sensors.protocols import SERIAL_PROTOCOLS
from drivers.sensors.serial_link import SerialSensor
from drivers.sensors.simulators import PtyPort, Simulator
from tests.loopback import eventually
from tests.sensors.listening import Seen

V7 = SERIAL_PROTOCOLS["contec-cms50d-v7"]
TIMEOUT = 1.0  # the device's own is ~30 s


def run(tmp_path: Path, protocol: object) -> tuple[PtyPort, SerialSensor, Seen]:
    device = PtyPort(tmp_path / "usb-Contec_CMS50D+_v7-if00", Simulator("contec-cms50d-v7", keep_alive_timeout=TIMEOUT)).plug()
    seen = Seen()
    sensor = SerialSensor(str(device.link), protocol, seen.measurement, seen.state, silent_after=0.5)  # type: ignore[arg-type]
    sensor.start()
    return device, sensor, seen


def test_kept_alive_it_streams_far_past_its_timeout(tmp_path: Path) -> None:
    device, sensor, seen = run(tmp_path, dataclasses.replace(V7, keep_alive_every=TIMEOUT / 3))
    try:
        eventually(lambda: sensor.state == "connected", what="connected")
        eventually(lambda: len(seen.measurements) > 60 * TIMEOUT * 4, what="four timeouts of packets")  # 60 a second
        device.simulator.vitals.spo2 = 93
        eventually(lambda: seen.values("spo2")[-1] == 93, what="a new value, still streaming")
        assert seen.states == ["connected"]  # never silent on the way
        device.pull()
        device.plug()  # a new device behind the same name: quiet until greeted again
        eventually(lambda: len(seen.states) >= 3 and sensor.state == "connected", what="greeted again after the replug")
        before = len(seen.measurements)
        eventually(lambda: len(seen.measurements) > before + 60 * TIMEOUT * 2, what="streaming past the timeout again")
    finally:
        sensor.stop()
        device.pull()


def test_without_keep_alive_it_stops_and_the_sensor_says_silent(tmp_path: Path) -> None:
    device, sensor, seen = run(tmp_path, dataclasses.replace(V7, keep_alive=b""))
    try:
        eventually(lambda: sensor.state == "connected", what="greeted: streaming")
        eventually(lambda: sensor.state == "silent", what="stopped after its timeout")
        assert seen.states == ["connected", "silent"] and seen.values("spo2")[-1] == 97  # it streamed, then nothing: not a stale value
    finally:
        sensor.stop()
        device.pull()


def test_never_greeted_it_says_nothing(tmp_path: Path) -> None:
    device, sensor, seen = run(tmp_path, dataclasses.replace(V7, hello=b"", keep_alive=b""))
    try:
        eventually(lambda: sensor.state == "silent", what="silent")
        assert seen.measurements == []
        assert sensor.command("start")  # the stream asked for by name
        eventually(lambda: sensor.state == "connected", what="streaming once asked")
        assert sensor.command("stop")
        eventually(lambda: sensor.state == "silent", what="stopped")
    finally:
        sensor.stop()
        device.pull()
