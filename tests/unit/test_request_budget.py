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


def _read_until_held(budget: RequestBudget) -> int:
    """Reads as fast as they are let through, the clock standing still: how many went out
    before one would have had to wait (a set stop event makes that wait end at once)."""
    import threading

    stopped = threading.Event()
    stopped.set()
    sent = 0
    while True:
        try:
            budget.acquire(stopped)
        except Throttled:
            return sent
        sent += 1


def test_a_cancel_is_sent_at_once_after_the_reads_spent_the_bucket() -> None:
    """Reads leave the last token to orders and cancels: a kill switch's cancel after a busy
    cycle went out at once instead of waiting for the next token (or being held back)."""
    import threading

    from tui_trader.brokers.alpaca_budget import metered

    clock = Clock()
    budget = RequestBudget(clock=clock)
    clock.t += 60.0  # a full bucket
    sent: list[str] = []
    stopped = threading.Event()
    stopped.set()  # any wait for a token ends at once, as Throttled
    send = metered(lambda method, url: sent.append(method) or _Answer(204, {}), budget, stopped)
    reads = 0
    while True:
        try:
            send("GET", "http://alpaca/v2/positions")
        except Throttled:
            break
        reads += 1
    send("DELETE", "http://alpaca/v2/orders")  # the kill switch's cancel: not held back
    assert sent[-1] == "DELETE"
    assert reads == BURST - 1, "the reads stopped one token short of the bucket's end"
    assert budget.requests == BURST


def test_a_halts_listing_takes_the_reserved_token_as_its_cancels_do() -> None:
    """A halt that keeps some orders lists the account's open orders before it cancels: that
    read is part of the kill switch, so inside ``urgent`` it takes the token reads leave to
    orders and cancels, instead of waiting for the next one; outside, reads leave it again."""
    clock = Clock()
    budget = RequestBudget(clock=clock)
    clock.t += 60.0  # a full bucket
    assert _read_until_held(budget) == BURST - 1  # the last token is kept back from reads
    with budget.urgent():
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    assert clock.t == 60.0, "the halt's listing waited for a token"
    clock.t += 60.0
    assert _read_until_held(budget) == BURST - 1


def test_sessions_on_one_account_share_its_rate_and_burst() -> None:
    """Each of n live sessions on the account takes 1/n of its rate and burst; together they
    keep any minute under 190 however the bursts line up."""
    clock = Clock()
    budgets = [RequestBudget(clock=clock) for _ in range(3)]
    for budget in budgets:
        budget.share(3)
    clock.t += 600.0  # every bucket full
    stamps = []
    for _ in range(400):
        for budget in budgets:
            budget.acquire(Waiter(clock), priority=True)  # type: ignore[arg-type]
            stamps.append(clock.t)
    worst = max(sum(1 for s in stamps if start <= s < start + 60.0) for start in stamps)
    assert worst <= RATE_PER_MINUTE + BURST
    assert [round(b.rate * 60) for b in budgets] == [60, 60, 60]


def test_a_crowded_account_keeps_a_floor_for_the_kill_switch() -> None:
    """Forty sessions on one account: each keeps a token every 5 s and one reserved for an
    order or cancel, rather than 4.5 requests a minute; one alone again gets the whole rate."""
    from tui_trader.brokers.alpaca_budget import FLOOR_PER_MINUTE, RESERVE

    clock = Clock()
    budget = RequestBudget(clock=clock)
    budget.share(40)
    assert budget.rate * 60 == FLOOR_PER_MINUTE and budget.burst == 1 + RESERVE
    clock.t += 60.0
    assert _read_until_held(budget) == 1
    budget.acquire(priority=True)  # the reserved token: a cancel goes out now
    budget.share(1)
    assert budget.rate * 60 == RATE_PER_MINUTE and budget.burst == BURST


def test_a_budget_below_the_floor_is_not_raised_by_it() -> None:
    """A user who asked for 6 requests a minute (a key shared with another tool): the floor
    never lifts a session above the rate asked for."""
    budget = RequestBudget(per_minute=6.0)
    budget.share(1)
    assert budget.rate * 60 == 6.0
    budget.share(4)
    assert budget.rate * 60 == 6.0, "the floor is the rate asked for, not above it"


class _KeyMinute:
    """The server's count of one key's minute, spent by this process and by others alike:
    every answer carries ``X-RateLimit-*`` headers as Alpaca's do."""

    def __init__(self, limit: int, left: int) -> None:
        import time

        self.limit = limit
        self.left = left
        self.reset = time.time() + 30
        self.sent: list[str] = []

    def __call__(self, method: str, url: str) -> _Answer:
        self.sent.append(method)
        status = 429 if self.left == 0 else 200
        self.left = max(self.left - 1, 0)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.left),
            "X-RateLimit-Reset": str(int(self.reset)),
        }
        return _Answer(status, headers)


def test_reads_leave_the_keys_last_requests_to_a_cancel_whoever_spent_the_minute() -> None:
    """Another desk on the key (another database, another machine) has spent all but 14 of
    the key's 200 requests this minute; this session's own bucket is full. Its reads stop
    while 10 are left, so the kill switch's cancel that follows is answered, not 429."""

    from tui_trader.brokers.alpaca_budget import ACCOUNT_RESERVE, metered

    clock = Clock()
    budget = RequestBudget(clock=clock)
    clock.t += 60.0  # this process's bucket is full: it has sent nothing for a minute
    server = _KeyMinute(limit=200, left=14)
    send = metered(server, budget, Waiter(clock))  # type: ignore[arg-type]
    reads = 0
    with pytest.raises(Throttled, match=r"nearly spent \(10 left, kept for orders"):
        while True:
            send("GET", "http://alpaca/v2/positions")
            reads += 1
    assert reads == 14 - ACCOUNT_RESERVE
    for _ in range(ACCOUNT_RESERVE):  # a halt's cancels, one order each
        assert send("DELETE", "http://alpaca/v2/orders/x").status_code == 200
    assert server.sent.count("DELETE") == ACCOUNT_RESERVE and budget.throttled == 0


def test_reads_go_again_once_the_server_says_the_minute_has_room() -> None:
    """The hold lasts until the time the server named, not for good: at it a read goes out,
    and an answer with room again lifts the hold."""
    import threading

    from tui_trader.brokers.alpaca_budget import metered

    clock = Clock()
    budget = RequestBudget(clock=clock)
    clock.t += 60.0
    server = _KeyMinute(limit=200, left=11)
    send = metered(server, budget, threading.Event())
    send("GET", "http://alpaca/v2/account")  # 10 left: reads hold until the reset, ~30 s
    with pytest.raises(Throttled, match=r"next read in (29|30) s"):
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    clock.t += 31.0
    server.left = 150  # the minute has moved on
    send("GET", "http://alpaca/v2/account")
    budget.acquire(Waiter(clock))  # type: ignore[arg-type]
    assert clock.t == 91.0, "a read waited although the server said there was room"


def test_answers_without_the_servers_count_change_nothing() -> None:
    """A gateway's answer, or a server that sends no ``X-RateLimit-*`` headers (or garbled
    ones): the bucket alone paces the reads, as before."""
    import threading

    from tui_trader.brokers.alpaca_budget import metered

    clock = Clock()
    budget = RequestBudget(clock=clock)
    clock.t += 60.0
    for headers in ({}, {"X-RateLimit-Remaining": "x", "X-RateLimit-Reset": "1"}):
        send = metered(lambda m, u, h=headers: _Answer(200, h), budget, threading.Event())
        send("GET", "http://gateway/v2/account")
    assert budget.server_left is None
    assert _read_until_held(budget) == BURST - 3


def test_a_retry_after_that_only_looks_like_digits_is_no_crash() -> None:
    """``Retry-After: ²`` from a gateway: ``str.isdigit`` said digits, ``float()`` refused
    them, and the ``ValueError`` left the request in place of its 429 answer. It is no number
    of seconds now: the budget pauses as for a bare 429."""
    import threading

    from tui_trader.brokers.alpaca_budget import metered

    clock = Clock()
    budget = RequestBudget(clock=clock)
    send = metered(lambda *a, **k: _Answer(429, {"Retry-After": "²"}), budget, threading.Event())
    assert send("GET", "http://gateway/v2/account").status_code == 429
    assert budget.throttled == 1
    with pytest.raises(Throttled):
        budget.acquire(Waiter(clock))  # type: ignore[arg-type]
