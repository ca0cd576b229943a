"""How often an address, and everyone together, may knock at the doors that take a secret: the
staff login, and the one-time codes of the outside links (asking for one, typing one).

A try limit per code or per login name stops guessing one secret; these limits stop spraying many
(fifty login names from one address, a code SMS every 30 s from every invitation) and keep an
attacker from spending the SMS budget. Moving windows from the `limits` library, kept in memory:
a restart forgets them, which costs an attacker nothing he could not do by waiting.

The cart's own screen (loopback) is never limited: nobody on the network can make the nurse at
the cart wait.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from agent.refusal import Refused

LOOPBACK = ("127.0.0.1", "::1")


class Door(StrEnum):
    LOGIN = "login"  # staff login and unlock
    CODE_SENT = "code_sent"  # asking an outside link for a one-time code by SMS or email
    CODE_TRIED = "code_tried"  # typing an outside link's one-time code


@dataclass(frozen=True)
class Rule:
    per_address: tuple[RateLimitItem, ...]
    overall: tuple[RateLimitItem, ...]


RULES = {
    Door.LOGIN: Rule(tuple(parse_many("10/minute;40/hour")), tuple(parse_many("60/minute"))),
    Door.CODE_SENT: Rule(tuple(parse_many("6/10minutes;20/day")), tuple(parse_many("60/hour"))),
    Door.CODE_TRIED: Rule(tuple(parse_many("20/10minutes;60/day")), tuple(parse_many("200/10minutes"))),
}
# Code messages per link (an invitation, a document sent to a patient), on top of 30 s between two.
PER_LINK = tuple(parse_many("5/hour;12/day"))


class TooManyTries(Refused):
    """Answered 429 with Retry-After: the address (or everyone) knocked too often at this door."""

    def __init__(self, seconds: float) -> None:
        super().__init__("too_many_tries", minutes=max(1, math.ceil(seconds / 60)))
        self.retry_after = max(1, math.ceil(seconds))


class RateLimits:
    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

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
        for item in PER_LINK:
            if not self._limiter.test(item, "per_link", link_id):
                raise self._full(item, "per_link", link_id)

    def code_sent(self, link_id: str) -> None:
        for item in PER_LINK:
            self._limiter.hit(item, "per_link", link_id)

    def _hit(self, items: tuple[RateLimitItem, ...], *identifiers: str) -> None:
        for item in items:
            if not self._limiter.hit(item, *identifiers):
                raise self._full(item, *identifiers)

    def _full(self, item: RateLimitItem, *identifiers: str) -> TooManyTries:
        return TooManyTries(self._limiter.get_window_stats(item, *identifiers).reset_time - time.time())
