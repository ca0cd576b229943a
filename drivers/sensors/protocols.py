"""The serial protocols the cart speaks, by the name a `[[sensors]]` table gives: how to open the
line, which decoder reads it, what the host must say to the device (a greeting on each connection,
a keep-alive, named commands), and when its silence means trouble. `SerialSensor`
(serial_link.py) and the simulators (simulators.py) take everything from here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypeVar

import serial

from drivers.sensors import contec, nonin, suntech
from drivers.sensors.readings import Measurement


class StreamDecoder(Protocol):
    def feed(self, data: bytes) -> list[Measurement]: ...


T = TypeVar("T")


def _frozen(mapping: dict[str, T]) -> Mapping[str, T]:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class SerialProtocol:
    name: str  # what a [[sensors]] table's `protocol` says
    label: str  # the device, in French, as a nurse reads it
    kind: str  # oximeter | blood_pressure | thermometer
    baud: int
    decoder: Callable[[], StreamDecoder]  # a fresh decoder per connection: no half packet from before
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_NONE
    stopbits: float = serial.STOPBITS_ONE
    xonxoff: bool = False
    hello: bytes = b""  # written once on each (re)connection
    keep_alive: bytes = b""  # written every `keep_alive_every` seconds while the line is open
    keep_alive_every: float = 0.0
    commands: Mapping[str, bytes] = field(default_factory=lambda: _frozen({}))  # named host commands (SerialSensor.command)
    replies: Mapping[str, str] = field(default_factory=lambda: _frozen({}))  # a status word the device says → the command the host answers with
    silent_after: float = 3.0  # seconds without any decoded message before the line is "silent"


SERIAL_PROTOCOLS: dict[str, SerialProtocol] = {p.name: p for p in (
    SerialProtocol(
        "contec-cms50d", "Oxymètre de pouls Contec CMS50D+", "oximeter", contec.OLD_BAUD, contec.OldFormat,
        # 8O1 as atbrask/CMS50Dplus opens it; not its XON/XOFF: the line discipline would swallow
        # every 0x11 and 0x13 of the binary stream (a pleth of 17 or 19) and break packets.
        parity=serial.PARITY_ODD,
    ),
    SerialProtocol(
        "contec-cms50d-v7", "Oxymètre de pouls Contec CMS50D+ (micrologiciel 4.6 et plus)", "oximeter", contec.NEW_BAUD,
        contec.NewFormat,
        hello=contec.START_LIVE,
        # AF is the specification's "still connected" (every 5 s); A1 again is what bedsidemon found
        # the device to need, its live data stopping 30 s after it was asked for. Both: either way holds.
        keep_alive=contec.KEEP_ALIVE + contec.START_LIVE, keep_alive_every=5.0,
        commands=_frozen({"start": contec.START_LIVE, "stop": contec.STOP_LIVE}),
    ),
    SerialProtocol("nonin-oem3", "Oxymètre de pouls Nonin (module OEM III)", "oximeter", nonin.BAUD, nonin.FormatTwo),
    SerialProtocol(
        "suntech-nibp", "Tensiomètre SunTech (module PNI Advantage)", "blood_pressure", suntech.BAUD, suntech.NibpReplies,
        # The module only answers. Its cuff pressure is asked on connection and four times a
        # second, idle or not: the pressure shows while it inflates, and an idle module that stops
        # answering is silent after 3 s like an oximeter that stops streaming.
        hello=suntech.GET_CUFF_PRESSURE, keep_alive=suntech.GET_CUFF_PRESSURE, keep_alive_every=0.25,
        commands=_frozen({"measure": suntech.START_ADULT, "cancel": suntech.ABORT,
                          "pressure": suntech.GET_CUFF_PRESSURE, "result": suntech.GET_RESULT}),
        replies=_frozen({"done": "result"}),  # its K ends a measurement: the result is asked at once
    ),
)}
