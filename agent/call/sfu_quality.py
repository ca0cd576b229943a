"""Which of the cart's two pictures each viewer gets through Janus (issue 16).

On the mesh the cart reads each viewer's receiver reports and puts them on the rung of the ladder
their link carries (agent/media/ladder.py). Through Janus it cannot: the viewers' reports go to
Janus, which forwards the cart's one publication to all of them alike, and a viewer on a poor link
would get a 720p picture that freezes. So the cart publishes its camera twice, the ladder's top and
a small picture (SMALL: 360p at 15 frames a second, about 250 kbit/s), and moves each viewer from
one to the other with a new subscription to the cart (the sound and that picture), from what their
own page reports of the cart's picture every two seconds: packets received and lost.

A viewer who loses a tenth of the picture's packets two reports running (a link that does not
carry the large picture) gets the small one; after UP_HOLD seconds losing almost nothing, the
large one again. A link that fails the large picture soon after each try (a bandwidth between the
two) is tried less and less often: the hold doubles each time, up to UP_HOLD_MAX. Sound is
untouched: it is the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.media.ladder import LADDER

SMALL = LADDER.index(next(r for r in LADDER if r.name == "360p à 15 i/s"))  # the small picture's highest rung
LOSS_DOWN = 0.10  # a report losing this share of the picture's packets is a lossy one ...
DOWN_REPORTS = 2  # ... and this many in a row (4 s) move the viewer to the small picture
LOSS_UP = 0.02  # the small picture's reports must lose less than this ...
UP_HOLD = 20.0  # ... for this long (seconds) before the large picture is tried again
UP_HOLD_MAX = 160.0
FAILED_SOON = 15.0  # the large picture given up within this long after a try: the next try waits twice as long


@dataclass
class PictureChoice:
    """One viewer's: `small` or not, from the counts their page reports (cumulative, per path)."""

    small: bool = False
    hold: float = UP_HOLD
    _counts: tuple[int, int] | None = None  # packets lost, received, at the last report
    _lossy_reports: int = 0
    _clean_since: float | None = None
    _large_since: float | None = None  # when the large picture was last tried again

    def new_path(self) -> None:
        """The viewer's path to the cart was made again: its counts start from zero."""
        self._counts = None

    def report(self, lost: int, received: int, now: float) -> bool:
        """A report from the viewer's page; True when they should now get the other picture."""
        last, self._counts = self._counts, (lost, received)
        if last is None or lost < last[0] or received < last[1]:  # the first, or a new path's
            return False
        lost_now, received_now = lost - last[0], received - last[1]
        if lost_now + received_now == 0:  # nothing came at all: a broken path, which ICE mends
            return False
        loss = lost_now / (lost_now + received_now)
        if not self.small:
            self._lossy_reports = self._lossy_reports + 1 if loss >= LOSS_DOWN else 0
            if self._lossy_reports < DOWN_REPORTS:
                return False
            if self._large_since is not None and now - self._large_since < FAILED_SOON:
                self.hold = min(self.hold * 2, UP_HOLD_MAX)
            self.small, self._lossy_reports, self._clean_since = True, 0, None
            return True
        if loss >= LOSS_UP:
            self._clean_since = None
            return False
        if self._clean_since is None:
            self._clean_since = now
        if now - self._clean_since < self.hold:
            return False
        self.small, self._clean_since, self._large_since = False, None, now
        return True
