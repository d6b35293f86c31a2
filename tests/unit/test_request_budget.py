"""The client-side request budget keeps any minute under Alpaca's 200 requests."""

from __future__ import annotations

import pytest

from tui_trader.brokers import Throttled
from tui_trader.brokers.alpaca_budget import BURST, RATE_PER_MINUTE, RequestBudget


class Clock:
    """A monotonic clock moved by the waits themselves."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Waiter:
    """Stands in for the stop event: a wait moves the clock instead of sleeping."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def wait(self, seconds: float) -> bool:
        self.clock.t += seconds
        return False


def test_no_sliding_minute_sees_more_than_190_requests() -> None:
    clock = Clock()
    budget = RequestBudget(clock=clock)
    stamps = []
    for _ in range(1_000):  # a caller asking as fast as it can
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
        stamps.append(clock.t)
    assert RATE_PER_MINUTE + BURST <= 190
    worst = max(sum(1 for s in stamps if start <= s < start + 60.0) for start in stamps)
    assert worst <= RATE_PER_MINUTE + BURST
    assert budget.requests == 1_000 and budget.waited > 0


def test_after_a_429_nothing_is_sent_until_the_reset() -> None:
    clock = Clock()
    budget = RequestBudget(clock=clock)
    budget.pause(30.0)
    with pytest.raises(Throttled, match="next request in 30 s"):
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    assert budget.requests == 0 and budget.throttled == 1
    clock.t += 30.5
    budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    assert budget.requests == 1


class _Answer:
    """A ``requests`` response: a status and headers."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


@pytest.mark.parametrize("retry_after", ["45", "date"])
def test_a_429_with_only_retry_after_pauses_as_long_as_it_says(retry_after: str) -> None:
    """A gateway or proxy in front of Alpaca answers 429 with HTTP's Retry-After and no
    X-RateLimit headers: the budget paused 5 s and asked again, 40 s too early."""
    import threading
    import time
    from email.utils import formatdate

    from tui_trader.brokers.alpaca_budget import metered

    if retry_after == "date":
        retry_after = formatdate(time.time() + 46, usegmt=True)
    clock = Clock()
    budget = RequestBudget(clock=clock)
    send = metered(
        lambda *a, **k: _Answer(429, {"Retry-After": retry_after}), budget, threading.Event()
    )
    assert send("GET", "http://gateway/v2/account").status_code == 429
    with pytest.raises(Throttled, match=r"next request in 4[4-6] s"):
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    clock.t += 40
    with pytest.raises(Throttled):
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
