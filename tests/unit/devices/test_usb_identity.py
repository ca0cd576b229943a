"""A serial sensor known by its USB identity is found on whichever port it is plugged into, and
two identical adapters are told apart by their serial numbers (the pure match; comports() is
pyserial's reading of /sys)."""

from __future__ import annotations

from agent.config import SensorConfig
from agent.devices.sensors import matches_usb


def table(**usb: str) -> SensorConfig:
    return SensorConfig(name="Tensiomètre", protocol="suntech-nibp", **usb)


def test_vendor_and_product_find_the_adapter() -> None:
    wanted = table(usb_vendor="0403", usb_product="6001")
    assert matches_usb(wanted, 0x0403, 0x6001, "FT4ABCDE")
    assert not matches_usb(wanted, 0x0403, 0x6015, "FT4ABCDE")  # the same maker's other chip
    assert not matches_usb(wanted, None, None, None)  # a port with no USB behind it (ttyS0)


def test_the_serial_number_tells_two_identical_adapters_apart() -> None:
    wanted = table(usb_vendor="10C4", usb_product="ea60", usb_serial="0001")
    assert matches_usb(wanted, 0x10C4, 0xEA60, "0001")
    assert not matches_usb(wanted, 0x10C4, 0xEA60, "0002")
