"""Live vitals to the doctors in the call: while the cart is in a room, the sensors' values and
the pleth waveform go to its specialist and other professionals (never to a relative or a guest:
vitals are health data), four times a second, beside the cart's picture.

A batch carries the latest value of each quantity (with the device's warnings), the pleth samples
since the last batch, and the sensors' states; a sensor that drops out is also said as a notice to
everyone, the kiosk included (agent/app.py wires `SensorHub.on_dropout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from agent.devices.sensors import SensorHub
from agent.links.invitation import ParticipantRole

if TYPE_CHECKING:  # the room brings the media stack, loaded when a call first needs it (agent/call/calls.py)
    from agent.call.room import LiveRoom

log = logging.getLogger("agent.call")

BATCH_SECONDS = 0.25
CLINICIANS = frozenset({ParticipantRole.SPECIALIST.value, ParticipantRole.PROFESSIONAL.value})
PLETH_KEEP = 120  # samples per sensor and batch at most (a 75 Hz oximeter sends ~19)


class VitalsRelay:
    def __init__(self, hub: SensorHub) -> None:
        self.hub = hub
        self._task: asyncio.Task[None] | None = None
        self._room: LiveRoom | None = None

    def follow(self, room: LiveRoom | None) -> None:
        """The cart entered `room` (None: it left)."""
        self._room = room
        if room is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._relay())
        elif room is None and self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _relay(self) -> None:
        queue = self.hub.listen()
        try:
            while True:
                await asyncio.sleep(BATCH_SECONDS)
                pleth: dict[str, list[tuple[float, float]]] = {}
                while not queue.empty():
                    event = queue.get_nowait()
                    if event and event.get("type") == "reading" and event.get("pleth") is not None:
                        pleth.setdefault(event["sensor"], []).append((round(event["at"], 3), event["pleth"]))
                room = self._room
                if room is not None:
                    await room.send_to_roles(CLINICIANS, self._batch(pleth))
        except asyncio.CancelledError:
            raise
        except Exception:  # a relay that fails must not take the call with it
            log.exception("vitals relay stopped")
        finally:
            self.hub.forget(queue)

    def _batch(self, pleth: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
        live = self.hub.live()
        return {"type": "vitals", "sensors": live["sensors"], "values": live["values"],
                "pleth": {sensor: samples[-PLETH_KEEP:] for sensor, samples in pleth.items()}}
