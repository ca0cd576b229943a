"""Vital-sign sensors: for each protocol, a pure decoder (bytes in, typed measurements out, no
I/O), in the manner of Home Assistant's device parsers; transports and simulators beside them.

- `readings.py`: what every decoder returns (a quantity, its value with its precision, its UCUM
  unit, the device's own status words) and `DecodeError`, the only error a decoder raises.
- `ieee11073.py`: the SFLOAT and FLOAT numbers of the Bluetooth health profiles.
- `ble_health.py`: the Bluetooth SIG health characteristics (heart rate, blood pressure,
  thermometer, pulse oximeter, weight, glucose).
- `contec.py`, `nonin.py`: serial pulse oximeters' live streams.
"""
