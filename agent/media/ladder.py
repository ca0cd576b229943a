"""How much picture a viewer's link carries (issue 16): a ladder of sizes and frame rates, each
viewer on the rung its link carries, so that a poor link gets a smaller picture that moves
instead of a large one that freezes, and one weak viewer does not lower everybody's picture.

What a link carries is read from what its receiver reports, as WebRTC's own congestion control
does (GCC): the receiver's estimate (REMB, from the growth of the delay) and the share of packets
lost in its receiver reports. A viewer steps down when its link has not carried its rung for two
seconds, and up one rung only after the link has carried the next one, with a margin, for a
while: a picture that changes size every few seconds is worse than a steady smaller one. An
estimate that falls while the encoder sends far less than it may (a still picture) is not taken.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    name: str
    height: int  # the picture's height at most (the camera's own when smaller); the width keeps the shape
    fps: float
    floor: int  # the least bitrate this rung is worth (bit/s): under it, the rung below looks better
    ceiling: int  # the most it is given
    every_frame_a_key: bool = False  # each picture stands alone (the still picture of « connexion faible »)

    def size(self, width: int, height: int) -> tuple[int, int]:
        if height <= self.height:
            return width, height
        return max(2, round(width * self.height / height / 2) * 2), self.height


LADDER = (
    Rung("720p", 720, 30, 450_000, 1_500_000),
    Rung("360p", 360, 30, 200_000, 600_000),
    Rung("360p à 15 i/s", 360, 15, 100_000, 250_000),
    Rung("180p à 15 i/s", 180, 15, 40_000, 120_000),
)
# « Connexion faible », chosen by a person: sound, and a picture that stands alone every 3 s.
STILL = Rung("image fixe", 360, 1 / 3, 150_000, 150_000, every_frame_a_key=True)

DOWN_HOLD = 2.0  # seconds under a rung's floor before the picture shrinks (two reports, not one odd one)
UP_MARGIN = 1.25  # the estimate must pass the upper rung's floor by this much ...
UP_HOLD = 4.0  # ... for this long (seconds) before the picture grows again
FULL = 0.95  # an estimate this close to a rung's ceiling: the link carries all the rung can use
FAR_UNDER = 0.6  # under this share of a rung's floor the picture shrinks even with nothing lost
LOSSY_REPORTS = 3  # a link is lossy while any of its last receiver reports lost LOSS_LOW or more
LOSS_HIGH, LOSS_LOW = 0.10, 0.02  # GCC's loss thresholds: above, cut in proportion; under, grow
LOSS_GROWTH = 1.05  # per receiver report (about one a second) while little is lost
# The sound's share of a link: Opus at 40 kbit/s (shared_audio.py) and its 50 packets a second of
# IP, UDP, RTP and SRTP headers (~58 bytes each). Taken off what is sent, never off REMB (LinkEstimate.for_video).
SOUND_ON_THE_WIRE = 64_000


class LinkEstimate:
    """What one viewer's link carries (bit/s), None until its receiver has said anything: the
    lower of its delay-based estimate (REMB) and a loss-based one, as in GCC."""

    def __init__(self) -> None:
        self.remb: int | None = None
        self.loss_based: int | None = None
        self._recent_losses: deque[float] = deque(maxlen=LOSSY_REPORTS)

    def on_remb(self, bitrate: int, app_limited: bool = False) -> None:
        """`app_limited`: the sender put out much less than it could (a still picture, the camera
        turned off). A receiver's estimate follows what it receives, so a lower one then says
        nothing about the link and is not taken (GCC does the same in its application-limited
        periods); a higher one is."""
        if app_limited and self.remb is not None and bitrate < self.remb:
            return
        self.remb = bitrate

    def on_loss(self, fraction_lost: float, sending_at: int) -> None:
        """A receiver report: `fraction_lost` (0..1) of what was sent at `sending_at` bit/s."""
        self._recent_losses.append(fraction_lost)
        if fraction_lost > LOSS_HIGH:
            self.loss_based = int(sending_at * (1 - fraction_lost / 2))
        elif fraction_lost < LOSS_LOW and self.loss_based is not None:
            self.loss_based = int(self.loss_based * LOSS_GROWTH)
            if self.remb is not None and self.loss_based - SOUND_ON_THE_WIRE > self.remb:
                self.loss_based = None  # the losses are over: the delay-based estimate rules again

    @property
    def lossy(self) -> bool:
        return any(lost >= LOSS_LOW for lost in self._recent_losses)

    @property
    def bitrate(self) -> int | None:
        """The whole link, the sound included (the technician's page shows it)."""
        video = self.for_video
        return None if video is None else video + SOUND_ON_THE_WIRE

    @property
    def for_video(self) -> int | None:
        """What the picture may use; on a poor link the picture gives way, the sound does not.
        Chromium's REMB is the picture's alone: its estimator reads the abs-send-time stamps,
        which aiortc puts on video packets only (Chromium's own counts are of those packets: the
        sound shows in its estimate only as the delay it adds to the queues). The loss-based
        estimate is of everything sent: the sound's share comes off it."""
        loss_based = None if self.loss_based is None else max(0, self.loss_based - SOUND_ON_THE_WIRE)
        known = [b for b in (self.remb, loss_based) if b is not None]
        return min(known) if known else None


class Climber:
    """One viewer's place on the ladder. A new viewer starts at the top, as aiortc starts a new
    connection at its default rate: a path just opened has not shown what it carries. `top` is the
    highest rung it may climb to (the small picture the cart also publishes through Janus)."""

    def __init__(self, top: int = 0) -> None:
        self.top = self.index = top
        self._below_since: float | None = None  # under the rung's floor since
        self._under_sum, self._under_count = 0, 0  # the estimates since then, for their average
        self._lossy_since: float | None = None  # under it and losing packets since
        self._above_since: float | None = None

    @property
    def rung(self) -> Rung:
        return LADDER[self.index]

    def follow(self, estimate: int | None, lossy: bool, now: float | None = None) -> Rung:
        """The rung for this estimate: down, as far as its average says, once it has stayed under
        the rung's floor for DOWN_HOLD seconds on a `lossy` link, or far under it on average
        (Chromium's estimate of a poor link jumps from a fifth of the floor to near it and back
        from one report to the next, and once the rate has fallen with it, retransmissions make
        up most of the losses: neither holds still for DOWN_HOLD); up one rung at a time after
        UP_HOLD seconds above the upper rung's floor with UP_MARGIN, or at this rung's ceiling.
        A receiver's estimate also dips when its computer is busy (it reads delay): with nothing
        lost, a dip lowers the rate, not the picture's size."""
        if estimate is None:
            return self.rung
        now = time.monotonic() if now is None else now
        floor = self.rung.floor
        if estimate < floor and self.index < len(LADDER) - 1:
            if self._below_since is None:
                self._below_since, self._under_sum, self._under_count = now, 0, 0
            self._under_sum, self._under_count = self._under_sum + estimate, self._under_count + 1
            if not lossy:
                self._lossy_since = None
            elif self._lossy_since is None:
                self._lossy_since = now
            average = self._under_sum // self._under_count
            lossy_held = self._lossy_since is not None and now - self._lossy_since >= DOWN_HOLD
            far_under = now - self._below_since >= DOWN_HOLD and average < floor * FAR_UNDER
            if lossy_held or far_under:
                while self.index < len(LADDER) - 1 and average < LADDER[self.index].floor:
                    self.index += 1
                self._below_since = self._lossy_since = None
            self._above_since = None
            return self.rung
        self._below_since = self._lossy_since = None
        # The link carries the upper rung, or all this rung can put out: a receiver's estimate
        # rises to at most 1.5 times what it receives, so under a rung's ceiling it may never
        # reach the upper rung's floor however good the link; the step up is the probe.
        if self.index > self.top and (estimate >= LADDER[self.index - 1].floor * UP_MARGIN or estimate >= self.rung.ceiling * FULL):
            if self._above_since is None:
                self._above_since = now
            elif now - self._above_since >= UP_HOLD:
                self.index -= 1
                self._above_since = None
        else:
            self._above_since = None
        return self.rung


class OutputRate:
    """What an encoder really puts out (bit/s) over the last WINDOW seconds, key frames included.
    Far under what it is given, it is application-limited (a still picture, the camera turned
    off): its receivers' estimates then follow the little they receive, not their links."""

    WINDOW = 2.0
    APP_LIMITED = 0.4  # under this share of its target: libvpx at its rate puts out 60-100 % of it for a moving picture

    def __init__(self) -> None:
        self._sizes: deque[tuple[float, int]] = deque()

    def add(self, size: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._sizes.append((now, size))
        while self._sizes and self._sizes[0][0] < now - self.WINDOW:
            self._sizes.popleft()

    def bitrate(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        recent = [(at, size) for at, size in self._sizes if at >= now - self.WINDOW]
        if not recent:
            return 0
        span = min(max(now - recent[0][0], 0.5), self.WINDOW)
        return int(sum(size for _, size in recent) * 8 / span)

    def app_limited(self, target: int, now: float | None = None) -> bool:
        return self.bitrate(now) < target * self.APP_LIMITED
