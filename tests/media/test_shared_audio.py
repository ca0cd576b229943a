"""The cart's microphone encoded once for every participant (agent/media/shared_audio.py), with
the simulated microphone (a soft beep each second) and the real libopus: two participants get the
same packets from one encoder, decoded back they are the beep, and the packets of speech carry
Opus's in-band copy of the one before (FEC), which the receiver rebuilds a lost packet from."""

from __future__ import annotations

import asyncio

import av
import numpy as np

from agent.config import MediaConfig
from agent.devices.microphone import Microphone
from agent.media.shared_audio import shared_audio
from tests.notify.servers import run_async


def _carries_fec_copy(packet: bytes) -> bool:
    """RFC 6716: a code-0 packet (one frame) of SILK or hybrid mode (config < 16) starts its frame
    with the VAD flag then the LBRR flag (mono, one 20 ms SILK frame): the in-band FEC copy."""
    toc = packet[0]
    return (toc >> 3) < 16 and toc & 3 == 0 and len(packet) > 1 and bool(packet[1] & 0x40)


def test_two_participants_share_one_opus_encoder_whose_speech_carries_fec() -> None:
    async def scenario() -> tuple:
        microphone = Microphone(MediaConfig(), simulate=True)
        source = shared_audio(microphone)
        first, second = source.listener(), source.listener()
        heard = await asyncio.gather(*(asyncio.wait_for(t.recv(), 10) for t in (first, second)))
        packets = [await asyncio.wait_for(first.recv(), 5) for _ in range(100)]  # 2 s
        other = [second._queue.get_nowait()[0] for _ in range(second._queue.qsize())]
        packets += [first._queue.get_nowait()[0] for _ in range(first._queue.qsize())]  # made meanwhile, for both
        first.stop()
        second.stop()
        await asyncio.sleep(0.05)
        return heard, packets, other, source._task

    heard, packets, other, task = run_async(scenario())
    assert heard[0] is heard[1]  # the same packet object: encoded once for both
    assert set(map(id, other)) <= set(map(id, packets))
    assert task is None  # nobody listens: the encoder stopped, the microphone released
    steps = [b.pts - a.pts for a, b in zip(packets, packets[1:])]
    assert all(step > 0 and step % 960 == 0 for step in steps)  # whole 20 ms steps on the capture clock (a gap on a loaded machine)

    decoder = av.CodecContext.create("libopus", "r")
    sound = np.concatenate([f.to_ndarray().reshape(-1) for p in packets for f in decoder.decode(p)])
    assert np.abs(sound).max() > 1000  # the beep is heard (its peak is 3000 of 32767)
    loud = [bytes(p) for p in packets if len(bytes(p)) > 60]  # the beep, not the silence between (27 bytes a packet)
    assert loud and sum(map(_carries_fec_copy, loud[1:])) >= len(loud[1:]) // 2
    assert sum(len(bytes(p)) for p in packets) * 8 / 2 < 60_000  # about 40 kbit/s, not aiortc's 96 stereo


def test_sound_leaving_unevenly_shows_in_its_spread() -> None:
    """The technician's page and the bench read `sound_spread_ms`: a participant's sender that
    stalls 100 ms every 200 ms (a busy loop) gets its sound in bursts, which the figure shows; one
    read as it comes does not."""
    async def scenario() -> tuple:
        source = shared_audio(Microphone(MediaConfig(), simulate=True))
        even, bursty = source.listener(), source.listener()
        assert even.spread_ms is None  # not enough packets to say yet

        async def read(track, stall: float) -> None:
            for n in range(100):
                if stall and n % 10 == 0:
                    await asyncio.sleep(stall)
                await asyncio.wait_for(track.recv(), 5)

        await asyncio.gather(read(even, 0), read(bursty, 0.1))
        spreads = even.spread_ms, bursty.spread_ms
        even.stop()
        bursty.stop()
        return spreads

    even, bursty = run_async(scenario())
    assert bursty >= 60  # its packets waited 0 to 100 ms
    assert even < bursty - 40
