"""The cart in the call: its cameras, the call it is in, and the technician's statistics."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class CameraOut(Schema):
    id: str
    label: str
    available: bool
    simulated: bool


class CamerasOut(Schema):
    active: str
    cameras: list[CameraOut]
    notice: str | None
    video_off: bool


class CameraChoice(Strict):
    camera: str = Field(pattern="^(room|exam)$")


class CallOut(Schema):
    in_call: bool
    room: str | None = None
    dossier_id: str | None = None
    closes_at: str | None = None
    members: int = 0
    camera: CamerasOut


class UnattendedOut(Schema):
    in_call: bool = Field(description="The cart answered a call by itself and its screen may show it")


class ReceivedStats(Schema):
    """What a participant's browser measures of the cart's video (agent/call/messages.py Stats)."""

    fps: float | None = None
    width: int | None = None
    height: int | None = None
    bitrate_kbps: float | None = None
    packets_lost: int | None = None
    packets_received: int | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    codec: str | None = None
    candidate: str | None = Field(None, description="host, srflx or relay: how the participant's path goes")


class SentStats(Schema):
    """What the cart knows of its own sending to one participant (RTCP)."""

    state: str = Field(description="The peer connection's state")
    codec: str
    bitrate_kbps: float | None = None
    packets_sent: int | None = None
    packets_lost: int | None = None
    rtt_ms: float | None = None
    fraction_lost: float | None = None
    frames_sent: int | None = None
    width: int | None = None
    height: int | None = None
    quality: str | None = Field(None, description="The rung of the quality ladder this participant's link carries (720p, 360p, 360p à 15 i/s, 180p à 15 i/s, image fixe); VP8 only")
    estimate_kbps: int | None = Field(None, description="What the cart reckons this participant's link carries (REMB and losses)")
    held_ms: float | None = Field(None, description="The cart's own share of the delay: from a camera frame to its packets handed to the sender (encoding, queue), averaged")
    sound_spread_ms: float | None = Field(None, description="How unevenly the sound leaves the cart: 5th to 95th percentile of its packets' lateness "
                                          "behind the microphone's clock, last 5 s (the receiver's jitter buffer, and the picture held behind it, follow it)")


class ParticipantStatsOut(Schema):
    id: str
    name: str
    role: str
    received: ReceivedStats
    sent: SentStats | None = Field(None, description="None until the cart has a connection to this participant")
    janus_picture: Literal["large", "small"] | None = Field(None, description="Through Janus: which of the cart's two pictures this "
                                                            "participant's link carries (agent/call/sfu_quality.py)")


class CallStatsOut(Schema):
    """The technician's view of the call: each participant's path as the cart sends and as they receive."""

    in_call: bool
    room: str | None = None
    participants: list[ParticipantStatsOut]
    camera: CamerasOut
    janus: SentStats | None = Field(None, description="The room goes through the region's Janus: the cart's one publication, "
                                    "which every participant receives (none per participant then)")
