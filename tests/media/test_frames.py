"""The cart's pictures before they leave: the newest frame only, the stamp that survives the codec."""

from __future__ import annotations

import asyncio
import time

import av
import numpy as np

from agent.media.frames import FrameSlot
from drivers.camera import simulator, stamp
from tests.notify.servers import run_async


def frame(value: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((720 * 3 // 2, 1280), value, dtype=np.uint8), format="yuv420p")


def test_a_slow_viewer_gets_the_newest_frame_and_never_a_queue() -> None:
    async def scenario() -> list[int]:
        slot = FrameSlot()
        slot.bind(asyncio.get_running_loop())
        waiting = asyncio.ensure_future(slot.next_after(0, 1.0))  # the viewer waits for the first frame
        await asyncio.sleep(0)
        slot.publish(frame(1))
        seen = [(await waiting).seq]
        for value in range(2, 12):  # ten frames while the viewer is busy encoding
            slot.publish(frame(value))
        newest = await slot.next_after(seen[-1], 1.0)
        seen.append(newest.seq)
        seen.append(-1 if await slot.next_after(newest.seq, 0.05) is None else 0)  # nothing newer: no old one either
        return seen

    assert run_async(scenario()) == [1, 11, -1]


def test_a_viewer_stopped_as_a_frame_arrives_stops() -> None:
    """The agent's stop cancels the preview's loop (agent/api/open_streams.py) at whatever moment:
    a frame arriving at the same instant must not win over it, or the preview would go on until
    aiohttp cut it."""
    async def scenario() -> bool:
        slot = FrameSlot()
        slot.bind(asyncio.get_running_loop())
        waiting = asyncio.ensure_future(slot.next_after(0, 10.0))
        await asyncio.sleep(0)
        slot.publish(frame(1))  # the viewer is woken...
        waiting.cancel()  # ...and stopped before it runs again
        try:
            await waiting
        except asyncio.CancelledError:
            return True
        return False

    assert run_async(scenario()), "the frame was returned, the stop lost"


def test_presentation_times_follow_one_clock_across_cameras() -> None:
    async def scenario() -> list[int]:
        slot = FrameSlot()
        times = []
        for source in (frame(1), simulator.still(640, 360, "Caméra débranchée"), frame(2)):
            slot.publish(source)
            times.append(slot.latest.frame.pts)
            time.sleep(0.01)
        return times

    times = run_async(scenario())
    assert times == sorted(times) and len(set(times)) == 3


def test_the_capture_stamp_survives_a_vp8_encoder_at_a_low_bitrate() -> None:
    camera = simulator.SimulatedCamera(simulator.ROOM, 1280, 720, 1000)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt, encoder.bit_rate = 1280, 720, "yuv420p", 300_000
    encoder.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"}
    decoder = av.CodecContext.create("libvpx", "r")
    drawn, read = [], []
    for index in range(10):
        picture = camera.read()
        drawn.append(stamp.read(picture.to_ndarray()[:720]))
        picture.pts = index
        for packet in encoder.encode(picture):
            for decoded in decoder.decode(packet):
                read.append(stamp.read(decoded.to_ndarray()[:720]))
    assert read and all(value is not None for value in drawn)
    assert read == drawn[: len(read)]  # every decoded frame carries exactly its capture time


def test_a_picture_without_a_stamp_reads_as_none() -> None:
    assert stamp.read(np.full((720, 1280), 16, dtype=np.uint8)) is None
