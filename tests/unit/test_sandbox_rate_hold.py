"""The sandbox's ``rate_hold`` switch: a spent minute held as it is until a test lets it go.

A test of a start that waits for the key's next minute spends the minute, then starts a desk;
on a loaded machine the desk came after a short window had ended, met a fresh minute, did not
wait, and the test timed out. Held, the minute is still spent however late the desk comes.
"""

from __future__ import annotations

import time

from tui_trader.sandbox.faults import parse_faults
from tui_trader.sandbox.rest import RateLimiter


class Ticks:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_held_minute_keeps_its_requests_and_ends_a_window_from_now() -> None:
    ticks = Ticks()
    limiter = RateLimiter(window=4.0, clock=ticks)
    for _ in range(3):
        limiter.hit("trading:k", 5, hold=True)
    ticks.now += 30.0  # far past the window: held, nothing left it
    allowed, remaining, reset = limiter.hit("trading:k", 5, hold=True)
    assert (allowed, remaining) == (True, 1)
    assert time.time() + 3.0 <= reset <= time.time() + 5.0 + 1.0, "a whole window from now"
    allowed, remaining, _ = limiter.hit("trading:k", 5, hold=True)
    assert (allowed, remaining) == (True, 0)
    assert limiter.hit("trading:k", 5, hold=True)[0] is False, "past the limit: 429"


def test_a_released_minute_runs_on_from_the_requests_counted() -> None:
    ticks = Ticks()
    limiter = RateLimiter(window=4.0, clock=ticks)
    for _ in range(4):
        limiter.hit("trading:k", 5, hold=True)
    ticks.now += 30.0
    allowed, remaining, _ = limiter.hit("trading:k", 5)  # let go: the old ones age out
    assert (allowed, remaining) == (True, 4)


def test_the_switch_is_a_count_in_the_fault_grammar() -> None:
    assert parse_faults("rate_limit=200,rate_hold=1").rate_hold == 1
    assert parse_faults("none").rate_hold == 0
    assert "rate_hold=1" in parse_faults("rate_hold=1").describe()
