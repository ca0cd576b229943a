"""The camera encoded once for every participant (agent/media/shared_video.py), with the simulated
camera and the real libvpx encoder: three viewers get the same packets from one encoder, each
starts at a key frame, a key frame asked by one is made for all (and not again at once), a paused
viewer asks nothing, a viewer that falls behind restarts at the next key frame, and the bitrate
follows the weakest viewer (REMB). Decoded back with libvpx: what a viewer receives is a picture."""

from __future__ import annotations

import asyncio

import av

from agent.config import MediaConfig
from agent.devices.cameras import CameraHub, cameras_from_config
from agent.media import shared_video
from agent.media.shared_video import SharedVideo
from tests.notify.servers import run_async

LOW = 320_000


def _hub() -> CameraHub:
    media = MediaConfig(camera_width=960, camera_height=540, camera_fps=30)  # the simulator's stamp needs 688 px
    return CameraHub(cameras_from_config(media, simulate=True), width=960, height=540)


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
    assert shared._task is None  # nobody watches: the encoder stopped, the camera released


def test_key_frames_asked_in_a_burst_make_one_and_a_paused_or_late_viewer_restarts_cleanly() -> None:
    async def scenario() -> dict:
        shared = SharedVideo(_hub())
        watching, paused = shared.viewer(), shared.viewer()
        await _take(watching, 5)
        paused.pause()
        for _ in range(3):  # three viewers losing the same packet
            shared.request_keyframe()
        burst = await _take(watching, 30)  # a second: the key frame comes once KEYFRAME_INTERVAL has passed since the last
        after_pause = paused._queue.qsize()
        paused.resume()
        resumed = await _take(paused, 3)
        slow = shared.viewer()
        await asyncio.sleep(0.6)  # its sender never reads: it falls QUEUE_PACKETS behind
        fell_behind = slow._waiting_keyframe or slow._queue.qsize() <= shared_video.QUEUE_PACKETS
        for track in (watching, paused, slow):
            track.stop()
        return {"burst": burst, "after_pause": after_pause, "resumed": resumed, "fell_behind": fell_behind}

    seen = run_async(scenario())
    assert sum(p.is_keyframe for p in seen["burst"]) == 1, "three requests, one key frame"
    assert seen["after_pause"] == 0  # nothing queued while paused
    assert seen["resumed"][0].is_keyframe
    assert seen["fell_behind"]


def test_the_bitrate_follows_the_weakest_viewer() -> None:
    """(The simulated picture is nearly still: libvpx needs few bits at any rate, so the encoder's
    own setting is what is read, after the frames that follow the change.)"""
    async def scenario() -> tuple[int, int, int, int]:
        shared = SharedVideo(_hub())
        strong, weak = shared.viewer(), shared.viewer()
        await asyncio.gather(_take(strong, 3), _take(weak, 3))
        strong.estimate, weak.estimate = 1_400_000, LOW
        shared.retarget()
        await asyncio.gather(_take(strong, 5), _take(weak, 5))
        lowered, encoding_low = shared.bitrate, shared.encoding_bitrate
        weak.stop()  # the weak one leaves: the strong one's estimate rules at once
        await _take(strong, 5)
        raised, encoding_high = shared.bitrate, shared.encoding_bitrate
        strong.stop()
        return lowered, encoding_low, raised, encoding_high

    lowered, encoding_low, raised, encoding_high = run_async(scenario())
    assert lowered == encoding_low == LOW
    assert raised == encoding_high == 1_400_000


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
