"""The moving windows behind the rate limits (agent/access/rate_limits.py), on a clock the test
turns: a full window refuses and says how long to wait, room comes back as old tries leave it
(not at a calendar boundary), and addresses that knocked once do not stay in memory."""

from __future__ import annotations

import pytest

from agent.access import rate_limits
from agent.access.rate_limits import HOUR, MINUTE, Door, Limit, MovingWindows, RateLimits, TooManyTries


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_until_its_oldest_try_leaves_it() -> None:
    clock = Clock()
    windows, limit = MovingWindows(clock), Limit(3, MINUTE)
    for second in (0, 20, 40):
        clock.now = 1000 + second
        assert windows.hit(limit, "10.0.0.9")
    clock.now = 1050
    assert not windows.hit(limit, "10.0.0.9") and not windows.test(limit, "10.0.0.9")
    assert windows.wait(limit, "10.0.0.9") == pytest.approx(10)  # the try at 0 s leaves at 60 s
    assert windows.hit(limit, "10.0.0.10")  # another address has its own window
    clock.now = 1060
    assert windows.hit(limit, "10.0.0.9")  # moving: one try left, one more allowed
    assert not windows.hit(limit, "10.0.0.9")


def test_a_refused_try_is_not_counted() -> None:
    clock = Clock()
    windows, limit = MovingWindows(clock), Limit(1, MINUTE)
    assert windows.hit(limit, "a")
    for _ in range(50):  # hammering a full window does not push its end further
        clock.now += 1
        assert not windows.hit(limit, "a")
    clock.now = 1000 + MINUTE
    assert windows.hit(limit, "a")


def test_two_limits_on_one_door_and_the_wait_of_the_one_that_is_full() -> None:
    limits = RateLimits()
    clock = Clock()
    limits._windows = MovingWindows(clock)
    for _ in range(10):  # 10 logins a minute from one address
        limits.knock(Door.LOGIN, "192.0.2.7")
        clock.now += 1
    with pytest.raises(TooManyTries) as refused:
        limits.knock(Door.LOGIN, "192.0.2.7")
    assert refused.value.retry_after == 50
    limits.knock(Door.LOGIN, "127.0.0.1")  # the cart's own screen is never limited
    for minutes in (2, 4, 6):  # then 40 an hour: ten more every other minute
        clock.now = 1000 + minutes * MINUTE
        for _ in range(10):
            limits.knock(Door.LOGIN, "192.0.2.7")
            clock.now += 0.5
    clock.now = 1000 + 8 * MINUTE
    with pytest.raises(TooManyTries) as refused:
        limits.knock(Door.LOGIN, "192.0.2.7")
    assert refused.value.retry_after == HOUR - 8 * MINUTE  # until the hour's first try leaves its window


def test_windows_nobody_knocked_at_for_a_day_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limits, "SWEEP_EVERY", 10)
    clock = Clock()
    windows, limit = MovingWindows(clock), Limit(5, MINUTE)
    for n in range(9):
        windows.hit(limit, f"198.51.100.{n}")
    clock.now += 2 * 86400
    windows.hit(limit, "203.0.113.1")  # the tenth try sweeps
    assert len(windows._tries) == 1
