"""The camera encoded once for every participant on the same rung (agent/media/shared_video.py),
with the simulated camera and the real libvpx encoder: three viewers get the same packets from one
encoder, each starts at a key frame, a key frame asked by one is made for all (and not again at
once), a viewer that falls behind restarts at the next key frame, a viewer whose link carries less
gets a smaller picture of its own while the others keep theirs, and « connexion faible » gets a
still picture every few seconds. Decoded back with libvpx: what a viewer receives is a picture."""

from __future__ import annotations

import asyncio
import time

import av
import numpy as np

from agent.config import MediaConfig
from agent.devices.cameras import Camera, CameraHub, cameras_from_config
from agent.media import shared_video
from agent.media.ladder import DOWN_HOLD
from agent.media.shared_video import SharedVideo
from tests.notify.servers import run_async

LOW = 250_000  # under 60 % of 720p's floor: a smaller picture even with nothing lost


def _hub() -> CameraHub:
    media = MediaConfig(camera_width=960, camera_height=540, camera_fps=30)  # the simulator's stamp needs 688 px
    return CameraHub(cameras_from_config(media, simulate=True), width=960, height=540)


class _Noise:
    """A camera filming snow: every pixel changes every frame, so an encoder spends all the rate
    it is given (the simulated room is nearly still and needs almost none)."""

    width, height = 960, 540

    def __init__(self) -> None:
        self._next = time.monotonic()
        self._random = np.random.default_rng(7)

    def read(self) -> av.VideoFrame:
        self._next += 1 / 30
        time.sleep(max(0.0, self._next - time.monotonic()))
        planes = self._random.integers(0, 256, (self.height * 3 // 2, self.width), dtype=np.uint8)
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")

    def close(self) -> None:
        pass


def _snowy_hub() -> CameraHub:
    return CameraHub([Camera("room", "Neige", _Noise)], width=960, height=540)


async def _take(track, count: int) -> list[av.Packet]:  # noqa: ANN001
    return [await asyncio.wait_for(track.recv(), 10) for _ in range(count)]


def test_three_viewers_share_one_encoder_and_each_starts_at_a_key_frame() -> None:
    async def scenario() -> tuple:
        shared = SharedVideo(_hub())
        first = shared.viewer()
        early = await _take(first, 20)
        second, third = shared.viewer(), shared.viewer()
        late = await asyncio.gather(_take(second, 15), _take(third, 15))
        encoded = shared.frames_encoded
        for track in (first, second, third):
            track.stop()
        await asyncio.sleep(0.1)
        return shared, early, late, encoded

    shared, early, late, encoded = run_async(scenario())
    assert early[0].is_keyframe and not any(p.is_keyframe for p in early[1:]), "one key frame, then deltas"
    for packets in late:
        assert packets[0].is_keyframe  # a viewer joining asks for one, and starts with it
    assert late[0][0] is late[1][0]  # the same packet object: encoded once for both
    assert encoded < 20 + 15 + 5  # ~35 frames encoded for 50 frames sent
    decoder = av.CodecContext.create("libvpx", "r")
    pictures = [f for p in late[1] for f in decoder.decode(p)]
    assert pictures and (pictures[-1].width, pictures[-1].height) == (960, 540)
    assert not shared.encodings  # nobody watches: the encoder stopped, the camera released


def test_key_frames_asked_in_a_burst_make_one_and_a_late_viewer_restarts_cleanly() -> None:
    async def scenario() -> dict:
        shared = SharedVideo(_hub())
        watching = shared.viewer()
        await _take(watching, 5)
        for _ in range(3):  # three viewers losing the same packet
            shared.request_keyframe()
        burst = await _take(watching, 30)  # a second: the key frame comes once KEYFRAME_INTERVAL has passed since the last
        slow = shared.viewer()
        await asyncio.sleep(0.6)  # its sender never reads: it falls QUEUE_PACKETS behind
        fell_behind = slow._waiting_keyframe or slow._queue.qsize() <= shared_video.QUEUE_PACKETS
        for track in (watching, slow):
            track.stop()
        return {"burst": burst, "fell_behind": fell_behind}

    seen = run_async(scenario())
    assert sum(p.is_keyframe for p in seen["burst"]) == 1, "three requests, one key frame"
    assert seen["fell_behind"]


def _decoded_size(packets: list[av.Packet]) -> tuple[int, int]:
    decoder = av.CodecContext.create("libvpx", "r")
    pictures = [f for p in packets for f in decoder.decode(p)]
    return pictures[-1].width, pictures[-1].height


def test_a_viewer_on_a_poor_link_gets_a_smaller_picture_of_its_own() -> None:
    """(The encoders' own settings are read, after the frames that follow the change.)"""
    async def scenario(hub: CameraHub) -> dict:
        shared = SharedVideo(hub)
        strong, weak = shared.viewer(), shared.viewer()
        await asyncio.gather(_take(strong, 30), _take(weak, 30))  # a second at 500 kbit/s: the snow takes it all
        for _ in range(2):  # two reports, DOWN_HOLD apart
            strong.link.on_remb(1_400_000)
            weak.link.on_remb(LOW)  # its receiver's estimate: 250 kbit/s
            for track in (strong, weak):
                shared.place(track)
            await asyncio.sleep(DOWN_HOLD)
        strong_packets, weak_packets = await asyncio.gather(_take(strong, 8), _take(weak, 8))
        seen = {"encoders": len(shared.encodings), "strong": (strong.rung.name, strong.encoding.encoding_bitrate),
                "weak": (weak.rung.name, weak.encoding.encoding_bitrate), "weak_starts_at_key": weak_packets[0].is_keyframe,
                "sizes": (_decoded_size(strong_packets), _decoded_size(weak_packets))}
        await _take(weak, 30)
        for _ in range(2):
            weak.link.on_loss(0.5, LOW)  # then half of its packets lost: lower still
            shared.place(weak)
            await asyncio.sleep(DOWN_HOLD)
        seen["lossy"] = weak.rung.name
        weak.stop()
        await _take(strong, 3)
        seen["after"] = len(shared.encodings)  # the weak one left: its encoder stopped
        weak.still = True  # a report placing it elsewhere, after its sender stopped
        shared.place(weak)
        seen["after_late_report"] = len(shared.encodings)
        strong.stop()
        return seen

    seen = run_async(scenario(_snowy_hub()))
    assert seen["encoders"] == 2
    assert seen["strong"] == ("720p", 1_400_000)  # the strong link keeps its picture and rate
    assert seen["weak"] == ("360p", LOW)  # what its receiver reckons the picture may use
    assert seen["weak_starts_at_key"]
    assert seen["sizes"] == ((960, 540), (640, 360))  # the camera's own size (under 720p), and 360p
    assert seen["lossy"] == "360p à 15 i/s"  # 320k less half of 80 %: 192 kbit/s, 128 for the picture
    assert seen["after"] == seen["after_late_report"] == 1


def test_the_camera_turned_off_for_a_while_comes_back_as_large_as_before() -> None:
    """The « vidéo coupée » still takes few bits; its receiver's estimate falls with what it
    receives, which says nothing of the link: the camera comes back at the size and rate it had."""
    async def scenario() -> tuple:
        hub = _hub()
        shared = SharedVideo(hub)
        viewer = shared.viewer()
        await _take(viewer, 30)
        viewer.link.on_remb(1_000_000)
        shared.place(viewer)
        hub.set_video_off(True)
        await _take(viewer, 30)
        for _ in range(3):  # what Chromium says while it receives the still
            viewer.link.on_remb(150_000, app_limited=viewer.encoding.app_limited)
            shared.place(viewer)
            await asyncio.sleep(DOWN_HOLD / 2)
        hub.set_video_off(False)
        await _take(viewer, 10)
        seen = viewer.rung.name, viewer.encoding.bitrate
        viewer.stop()
        return seen

    assert run_async(scenario()) == ("720p", 1_000_000)


def test_connexion_faible_sends_a_still_picture_every_few_seconds() -> None:
    async def scenario() -> dict:
        shared = SharedVideo(_hub())
        viewer = shared.viewer()
        await _take(viewer, 3)
        viewer.set_still(True)
        loop = asyncio.get_running_loop()
        started = loop.time()
        stills = await _take(viewer, 2)
        took = loop.time() - started
        viewer.set_still(False)
        moving = await _take(viewer, 10)
        viewer.stop()
        return {"stills": stills, "took": took, "moving": moving}

    seen = run_async(scenario())
    assert all(p.is_keyframe for p in seen["stills"])  # each picture stands alone (any may be the only one for a while)
    assert seen["took"] >= 2.5  # two pictures: the first at once, the next about 3 s later
    assert _decoded_size(seen["stills"]) == (640, 360)
    assert seen["moving"][0].is_keyframe and not any(p.is_keyframe for p in seen["moving"][1:])


RELAY = """
import asyncio
from tests.media.test_shared_video import _hub
from agent.media.shared_video import SharedVideo

async def main():
    shared = SharedVideo(_hub())
    for _ in range(25):  # the last viewer leaves while its frame is in the encoder, the next comes at once
        viewer = shared.viewer()
        await asyncio.wait_for(viewer.recv(), 10)
        viewer.stop()
    last = shared.viewer()
    packet = await asyncio.wait_for(last.recv(), 10)
    last.stop()
    print(packet.is_keyframe)

asyncio.run(main())
"""


def test_a_viewer_replaced_at_once_never_shares_an_encoder_still_at_work() -> None:
    """A participant's connection replaced (a reconnect) cancels the encoder's run while its thread
    may still be encoding, and a new run starts at once: the two must not share a libvpx context
    (that crashed the agent without a word). In a process of its own: a crash must fail the test."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", RELAY], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip() == "True"
