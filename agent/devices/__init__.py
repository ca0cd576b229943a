"""The cart's hardware, owned in one place: the cameras (room and exam), the microphone, the card
reader and the vital-sign sensors (serial and Bluetooth). The call and the kiosk's preview borrow
these devices; they never open a device themselves.

Each device here speaks to a driver in drivers/ (the bytes and the system calls); this package
holds the state the agent cares about: which camera is active, who is listening, what failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.config import Config
from agent.devices.cameras import CameraHub, cameras_from_config
from agent.devices.card_reader import CardReader
from agent.devices.microphone import Microphone
from agent.devices.sensors import SensorHub


@dataclass
class Devices:
    cameras: CameraHub
    microphone: Microphone
    card: CardReader
    sensors: SensorHub


def devices_from_config(config: Config) -> Devices:
    """Real devices, or simulated ones with --simulate (config.devices.simulate)."""
    media, simulate = config.media, config.devices.simulate
    cameras = CameraHub(cameras_from_config(media, simulate), width=media.camera_width, height=media.camera_height)
    return Devices(cameras, Microphone(media, simulate), CardReader(config.card), SensorHub(config))
