"""How often an address, and everyone together, may knock at the doors that take a secret: the
staff login, and the one-time codes of the outside links (asking for one, typing one).

A try limit per code or per login name stops guessing one secret; these limits stop spraying many
(fifty login names from one address, a code SMS every 30 s from every invitation) and keep an
attacker from spending the SMS budget. Moving windows kept in memory: a restart forgets them,
which costs an attacker nothing he could not do by waiting.

The cart's own screen (loopback) is never limited: nobody on the network can make the nurse at
the cart wait.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from agent.refusal import Refused

LOOPBACK = ("127.0.0.1", "::1")


class Door(StrEnum):
    LOGIN = "login"  # staff login and unlock
    CODE_SENT = "code_sent"  # asking an outside link for a one-time code by SMS or email
    CODE_TRIED = "code_tried"  # typing an outside link's one-time code


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class Limit:
    """At most `count` tries in any `seconds` (a moving window, not a calendar one)."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Rule:
    per_address: tuple[Limit, ...]
    overall: tuple[Limit, ...]


RULES = {
    Door.LOGIN: Rule((Limit(10, MINUTE), Limit(40, HOUR)), (Limit(60, MINUTE),)),
    Door.CODE_SENT: Rule((Limit(6, 10 * MINUTE), Limit(20, DAY)), (Limit(60, HOUR),)),
    Door.CODE_TRIED: Rule((Limit(20, 10 * MINUTE), Limit(60, DAY)), (Limit(200, 10 * MINUTE),)),
}
# Code messages per link (an invitation, a document sent to a patient), on top of 30 s between two.
PER_LINK = (Limit(5, HOUR), Limit(12, DAY))
SWEEP_EVERY = 1000  # tries between two sweeps of the windows nobody knocked at for a day


class TooManyTries(Refused):
    """Answered 429 with Retry-After: the address (or everyone) knocked too often at this door."""

    def __init__(self, seconds: float) -> None:
        super().__init__("too_many_tries", minutes=max(1, math.ceil(seconds / 60)))
        self.retry_after = max(1, math.ceil(seconds))


class MovingWindows:
    """The times of the tries each key made within its limit's window. The `limits` library did
    this until its four packages (and a timer thread per write) were found to be 1.7 MiB of an
    idle cart, for the one strategy used here."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._tries: dict[tuple[str, ...], deque[float]] = {}
        self._clock = clock
        self._since_sweep = 0

    def _window(self, limit: Limit, key: tuple[str, ...], now: float) -> deque[float]:
        tries = self._tries.setdefault((*key, f"{limit.count}/{limit.seconds:g}"), deque())
        while tries and tries[0] <= now - limit.seconds:
            tries.popleft()
        return tries

    def test(self, limit: Limit, *key: str) -> bool:
        """Whether one more try would pass (nothing counted)."""
        return len(self._window(limit, key, self._clock())) < limit.count

    def hit(self, limit: Limit, *key: str) -> bool:
        """One try counted if the window has room; False (nothing counted) when it is full."""
        now = self._clock()
        self._sweep(now)
        tries = self._window(limit, key, now)
        if len(tries) >= limit.count:
            return False
        tries.append(now)
        return True

    def wait(self, limit: Limit, *key: str) -> float:
        """Seconds until the window has room again."""
        now = self._clock()
        tries = self._window(limit, key, now)
        return 0.0 if len(tries) < limit.count else tries[0] + limit.seconds - now

    def _sweep(self, now: float) -> None:
        """Addresses that knocked once and never again must not stay in memory for ever."""
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        self._tries = {key: tries for key, tries in self._tries.items() if tries and tries[-1] > now - DAY}


class RateLimits:
    def __init__(self) -> None:
        self._windows = MovingWindows()

    def knock(self, door: Door, address: str | None) -> None:
        """Count one try at `door` from `address`; TooManyTries when a window is full."""
        if address in LOOPBACK:
            return
        rule = RULES[door]
        self._hit(rule.per_address, door.value, "address", address or "?")
        self._hit(rule.overall, door.value, "overall")

    def may_send_code(self, link_id: str) -> None:
        """TooManyTries when this outside link had its share of code messages (checked before the
        message is queued; `code_sent` counts it once it is)."""
        for limit in PER_LINK:
            if not self._windows.test(limit, "per_link", link_id):
                raise TooManyTries(self._windows.wait(limit, "per_link", link_id))

    def code_sent(self, link_id: str) -> None:
        for limit in PER_LINK:
            self._windows.hit(limit, "per_link", link_id)

    def _hit(self, limits: tuple[Limit, ...], *key: str) -> None:
        for limit in limits:
            if not self._windows.hit(limit, *key):
                raise TooManyTries(self._windows.wait(limit, *key))
