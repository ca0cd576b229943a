"""What a participant's browser or the kiosk may send on the room's WebSocket. Anything else is
answered with an error message and otherwise ignored: a bad message never ends the room."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MAX_MESSAGE_BYTES = 128 * 1024  # an SDP with many candidates stays far below
_ID = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Description(_Message):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=10, max_length=100_000)


class Signal(_Message):
    type: Literal["signal"]
    to: Annotated[str, _ID]
    description: Description


class Chat(_Message):
    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=2000)


class State(_Message):
    type: Literal["state"]
    muted: bool = False
    video_off: bool = False
    sharing: bool = False
    audio_only: bool = False


class _ToMember(_Message):
    """A moderator's act on one member (or one person in the lobby)."""

    to: Annotated[str, _ID]


class AskUnmute(_ToMember):
    type: Literal["ask_unmute"]


class Remove(_ToMember):
    type: Literal["remove"]


class Admit(_ToMember):
    """Let someone in from the lobby."""

    type: Literal["admit"]


class Refuse(_ToMember):
    """Turn someone in the lobby away (their link no longer enters this room)."""

    type: Literal["refuse"]


class Snapshot(_Message):
    type: Literal["snapshot"]


class Reconnect(_Message):
    """The browser lost a media path it did not offer (ICE failed or stayed disconnected): a new
    connection. `to`: whose media, through Janus ("cart" or a participant); none: the cart's."""

    type: Literal["reconnect"]
    to: Annotated[str, _ID] | None = None


class Stats(_Message):
    """What the browser measures of the cart's video, for the technician's view and /metrics."""

    type: Literal["stats"]
    fps: float | None = Field(None, ge=0, le=1000)
    width: int | None = Field(None, ge=0, le=10_000)
    height: int | None = Field(None, ge=0, le=10_000)
    bitrate_kbps: float | None = Field(None, ge=0, le=1_000_000)
    packets_lost: int | None = Field(None, ge=0)
    packets_received: int | None = Field(None, ge=0)
    rtt_ms: float | None = Field(None, ge=0, le=600_000)
    jitter_ms: float | None = Field(None, ge=0, le=600_000)
    codec: str | None = Field(None, max_length=40)
    candidate: str | None = Field(None, max_length=20)  # host, srflx, relay


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[Signal | Chat | State | AskUnmute | Remove | Admit | Refuse | Snapshot | Reconnect | Stats | Ping,
                          Field(discriminator="type")]
_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class BadMessage(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def parse(raw: str) -> ClientMessage:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadMessage("Message trop long.")
    try:
        return _adapter.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadMessage(f"Message refusé ({where or 'format'} : {first['msg']}).") from exc
