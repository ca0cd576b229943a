"""Vital-sign sensors: for each protocol, a pure decoder (bytes in, typed measurements out, no
I/O), in the manner of Home Assistant's device parsers; transports and simulators beside them.

- `readings.py`: what every decoder returns (a quantity, its value with its precision, its UCUM
  unit, the device's own status words) and `DecodeError`, the only error a decoder raises.
- `ieee11073.py`: the SFLOAT and FLOAT numbers of the Bluetooth health profiles.
- `ble_health.py`: the Bluetooth SIG health characteristics (heart rate, blood pressure,
  thermometer, pulse oximeter, weight, glucose).
- `contec.py`, `nonin.py`: serial pulse oximeters' live streams (Contec CMS50D+ old 5-byte and
  "v7" 9-byte formats, Nonin OEM III format #2).
- `suntech.py`: SunTech's OEM blood-pressure module (NIBP): its replies (cuff pressure while it
  inflates, the result or the error's words, acknowledgements) and the host's commands.
- `protocols.py`: `SERIAL_PROTOCOLS`, each serial protocol by the name a `[[sensors]]` table gives:
  its line settings, decoder, greeting, keep-alive, named commands and silence threshold.
- `serial_link.py`: `SerialSensor`, the transport: a thread on pyserial that reopens a pulled
  cable, says the host's part of the protocol, and tells connecting/connected/silent/absent.
- `simulators.py`: a simulated device for every serial protocol, writing its exact bytes to a
  pseudo-terminal and hearing the host's commands, with fault modes; `--simulate` and the tests.
- `ble_link.py`: `BleSensors`, the Bluetooth transport on bleak: scan by health service, pair,
  subscribe, read the battery, fetch stored records (RACP), reconnect with back-off.
- `ble_bluez.py`: what bleak leaves to the application on BlueZ: the pairing agent ("Just Works"),
  a paired device found without scanning, BlueZ leaving the bus noticed.
"""
