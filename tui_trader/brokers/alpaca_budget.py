"""A client-side request budget, so that a session stays under Alpaca's 200 requests a minute.

Alpaca answers 429 beyond 200 requests in a minute per key (the Trading and the Market Data API
count apart). A session polling every second needs about three trading requests a cycle, so
without a budget it runs into the limit within a minute. Every HTTP request of an alpaca-py
client passes through a token bucket (``RATE_PER_MINUTE`` tokens a minute, at most ``BURST``
saved up, so no sliding minute ever sees more than ``RATE_PER_MINUTE + BURST`` = 190 requests);
a request without a token waits for one, briefly. After a 429 the budget pauses until the time
Alpaca names in ``X-RateLimit-Reset`` (or HTTP's ``Retry-After``, which gateways and proxies
send, else ``DEFAULT_PAUSE_S``), or only ``SHORT_PAUSE_S`` when ``X-RateLimit-Remaining`` says
the minute is not spent; a request that would have to wait
longer than ``MAX_WAIT_S`` is not sent: it raises ``Throttled``, so that the session skips that
cycle's reads (and says so) instead of sleeping through a kill switch or halting.

**Orders first.** Reads (GET) never take a bucket's last ``RESERVE`` token: an order, a cancel
or a replace (any other method) finds one there, so a kill switch's cancels are sent at once
however busy the reads were (a 429's pause still holds them: the server said no).

**One account, several processes.** The limit is the key's, not the process's: two desks on one
account each pacing at 180 a minute sent 360 and met 429s. So the rate given (``--requests-per-
minute``, the account's) is shared: ``share(n)`` gives this process ``rate / n`` and
``BURST / n`` for ``n`` live sessions on the account, recounted at each heartbeat from the
sessions table (``session.alpaca``, ``store.session_rows``), never below ``FLOOR_PER_MINUTE``
and ``FLOOR_BURST`` (a reserved token and a read), which keep a kill switch's cancels and
a cycle's reads going on an account crowded with sessions. A new budget starts with half its
burst: its session's first requests (the account, the symbols) go out before it has counted the
others, while theirs still run at their old share until their next heartbeat, and a full burst
then took two sessions starting together to 202 requests in that minute.

**The server's count.** The sessions table counts only the sessions of one store: desks on
other SQLite files, on other machines, or another program on the same key spend the same 200
a minute unseen, and a busy neighbour could leave a kill switch's cancels a 429 and a minute's
pause. But every Alpaca answer says what the key has left (``X-RateLimit-Remaining``) and when
that changes (``X-RateLimit-Reset``, an epoch second). When ``account_reserve(limit)`` requests
or fewer are left, reads hold until that time (never longer than ``MAX_PAUSE_S``) and leave the
rest of the key's minute to orders, cancels and a halt's reads, whoever else spends it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tui_trader.brokers import Throttled
from tui_trader.core import waiting

RATE_PER_MINUTE = 180
"""Tokens a minute: with ``BURST`` at most 190 requests in any minute, under Alpaca's 200."""
BURST = 10
MAX_WAIT_S = 2.0
"""Longest a request waits for a token; beyond it the request is not sent (``Throttled``)."""
DEFAULT_PAUSE_S = 5.0
"""Pause after a 429 that names no reset time."""
SHORT_PAUSE_S = 1.0
"""Pause after a 429 whose ``X-RateLimit-Remaining`` says the minute still has room."""
MAX_PAUSE_S = 60.0
RESERVE = 1.0
"""Tokens a read leaves in the bucket for orders and cancels (``acquire``'s ``priority``)."""
FLOOR_PER_MINUTE = 12.0
"""The least a session's share falls to (a token every 5 s), however many share the account:
a kill switch's cancels and a halting cycle's reads still go out within seconds."""
FLOOR_BURST = 1.0 + RESERVE
"""The least burst a share keeps: the reserved token for an order or cancel, and one read."""
ACCOUNT_RESERVE = 10
"""Requests of the key's minute (as the server counts them) that reads leave to orders and
cancels: a kill switch's listing and cancels of a few orders. Scaled down for a smaller limit
(``account_reserve``)."""


def account_reserve(limit: int | None) -> int:
    """Requests of a minute of ``limit`` that reads leave: ``ACCOUNT_RESERVE`` at Alpaca's 200,
    a twentieth of a smaller limit, never fewer than 2 (a cancel and its listing)."""
    if not limit or limit <= 0:
        return ACCOUNT_RESERVE
    return max(2, min(ACCOUNT_RESERVE, limit // 20))


class RequestBudget:
    """A token bucket shared by every request of one API key and API (thread-safe); with
    ``share``, this process's part of the account's budget."""

    def __init__(
        self,
        per_minute: float = RATE_PER_MINUTE,
        burst: float = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``per_minute`` and ``burst`` are the account's (``share`` takes this process's
        part); ``clock`` lets a test run the budget on its own time."""
        self.per_minute = per_minute
        self.full_burst = burst
        self.rate = per_minute / 60.0
        self.burst = burst
        self.sessions = 1
        """Live sessions on the account this budget was last shared among (``share``)."""
        self._clock = clock
        self._tokens = burst / 2  # before it has counted the account's sessions (``share``)
        self._stamp = clock()
        self._paused_until = 0.0
        self._reads_held_until = 0.0
        """Reads wait until then: the key's minute, as the server counts it, is nearly spent."""
        self.server_left: int | None = None
        """Requests the server last said the key has left this minute (``observe``)."""
        self.server_limit: int | None = None
        """The key's requests a minute, as the server last said (``observe``)."""
        self._minute_ends = 0.0
        """When the server's count last said changes (``observe``: its reset time)."""
        self._lock = threading.Lock()
        self.requests = 0
        """Requests sent through the budget so far (a cycle's count is the difference)."""
        self.waited = 0.0
        """Seconds requests spent waiting for a token so far."""
        self._urgent = 0
        """Open ``urgent`` blocks: while one is open every request is a priority request."""
        self.throttled = 0
        """429 answers seen so far."""

    def acquire(self, stop: threading.Event | None = None, priority: bool = False) -> None:
        """Take a token, waiting up to ``MAX_WAIT_S``; ``Throttled`` rather than wait longer.
        A read leaves ``RESERVE`` tokens; a ``priority`` request (an order, a cancel) may take
        them."""
        waiter = stop or threading.Event()
        need = 1.0 if priority or self._urgent else 1.0 + RESERVE
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                wait = max(self._paused_until - now, 0.0)
                if need > 1.0:  # a read: it also leaves the key's last requests to orders
                    wait = max(wait, self._reads_held_until - now)
                if wait == 0.0 and self._tokens >= need - 1e-9:
                    self._tokens = max(self._tokens - 1.0, 0.0)
                    self.requests += 1
                    return
                if wait == 0.0:
                    wait = (need - self._tokens) / self.rate
            if wait > max(MAX_WAIT_S, 1.5 / self.rate):  # a low rate's next token is awaited
                shared = (
                    f", shared by {self.sessions} sessions on the account"
                    if self.sessions > 1
                    else ""
                )
                if need > 1.0 and self._reads_held_until - now >= wait - 1e-9:
                    raise Throttled(
                        f"the account's requests this minute are nearly spent "
                        f"({self.server_left} left, kept for orders and cancels; another desk "
                        f"or program uses the same key): next read in {wait:.0f} s"
                    )
                raise Throttled(
                    f"request budget spent (Alpaca allows 200 requests a minute{shared}): "
                    f"next request in {wait:.0f} s"
                )
            self.waited += wait
            if waiting.wait(waiter, wait):  # the session's heartbeat goes on
                raise Throttled("stopped while waiting for the request budget")

    @contextlib.contextmanager
    def urgent(self) -> Iterator[None]:
        """Reads inside the block may take the reserved token too: a halt's listing of the
        account's open orders is part of its cancel, not a read that can wait for one."""
        with self._lock:
            self._urgent += 1
        try:
            yield
        finally:
            with self._lock:
                self._urgent -= 1

    def share(self, sessions: int) -> None:
        """Take this process's part of the account's budget: ``1 / sessions`` of its rate and
        burst (``sessions`` live on the account, this one included), never below the floors.
        Tokens saved beyond the new burst are dropped; none are added."""
        sessions = max(int(sessions), 1)
        with self._lock:
            self._refill(self._clock())  # what the old rate earned until now stays earned
            floor = min(FLOOR_PER_MINUTE, self.per_minute)  # never above the rate asked for
            self.rate = max(self.per_minute / sessions, floor) / 60.0
            self.burst = max(self.full_burst / sessions, min(FLOOR_BURST, self.full_burst))
            self._tokens = min(self._tokens, self.burst)
            self.sessions = sessions

    def observe(self, remaining: int, limit: int | None, reset_in: float) -> None:
        """What an answer said of the key's minute: ``remaining`` requests left, of ``limit``,
        until ``reset_in`` seconds from now. At ``account_reserve(limit)`` or below, reads hold
        until then (at most ``MAX_PAUSE_S``); above it they go as the bucket lets them."""
        with self._lock:
            self.server_left = remaining
            self.server_limit = limit
            now = self._clock()
            self._minute_ends = now + max(reset_in, 0.0)  # as said: a start judges it
            if remaining <= account_reserve(limit):
                self._reads_held_until = now + min(max(reset_in, 0.0), MAX_PAUSE_S)
            else:
                self._reads_held_until = 0.0

    def minute(self) -> tuple[int | None, float]:
        """The key's minute as the server last told it: the requests left (``None``: it never
        said) and the seconds until its count changes; while a 429's pause lasts, none left
        until the pause ends. A start asks it before writing anything (``session.key_minute``)."""
        with self._lock:
            now = self._clock()
            paused = self._paused_until - now
            if paused > 0:
                return 0, paused
            return self.server_left, max(self._minute_ends - now, 0.0)

    def _refill(self, now: float) -> None:
        """Add the tokens earned since the last look (the lock held)."""
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a 429) and start again with an empty bucket."""
        with self._lock:
            self.throttled += 1
            now = self._clock()
            self._paused_until = max(self._paused_until, now + min(seconds, MAX_PAUSE_S))
            self._tokens = 0.0
            self._stamp = self._paused_until


def metered(request: Callable[..., Any], budget: RequestBudget, stop: threading.Event) -> Any:
    """``requests.Session.request`` taking a token per request and pausing after a 429."""

    @functools.wraps(request)
    def send(method: str, *args: Any, **kwargs: Any) -> Any:
        budget.acquire(stop, priority=str(method).upper() not in _READS)
        response = request(method, *args, **kwargs)
        _observe(budget, response.headers)
        if response.status_code == 429:
            headers = response.headers
            retry_after = _retry_after(headers.get("Retry-After"))
            if retry_after is not None and not headers.get("X-RateLimit-Reset"):
                budget.pause(retry_after)  # a gateway's or proxy's 429 says when, its way
            elif headers.get("X-RateLimit-Remaining", "0") not in ("", "0"):
                budget.pause(SHORT_PAUSE_S)  # a 429 while our minute has room: a brief storm
            else:
                budget.pause(_reset_in(headers.get("X-RateLimit-Reset")))
        return response

    return send


_READS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that only read: they leave the reserved token to orders and cancels."""


def _observe(budget: RequestBudget, headers: Any) -> None:
    """Tell the budget what an answer's ``X-RateLimit-*`` headers say (nothing when absent
    or unreadable: a gateway's answer, a server without them)."""
    try:
        remaining = int(headers.get("X-RateLimit-Remaining", ""))
        reset = float(headers.get("X-RateLimit-Reset", ""))
    except (TypeError, ValueError):
        return
    try:
        limit: int | None = int(headers.get("X-RateLimit-Limit", ""))
    except (TypeError, ValueError):
        limit = None
    budget.observe(remaining, limit, reset - time.time())


def _reset_in(header: str | None) -> float:
    """Seconds until the epoch second in ``X-RateLimit-Reset`` (a default when absent)."""
    try:
        return max(float(header) - time.time(), 0.0) if header else DEFAULT_PAUSE_S
    except ValueError:
        return DEFAULT_PAUSE_S


def _retry_after(header: str | None) -> float | None:
    """Seconds to wait from HTTP's ``Retry-After`` (seconds, or a date), if it says."""
    if not header:
        return None
    text = header.strip()
    if text.isdigit():  # '²' is a digit to isdigit, not to float(): a ValueError, no answer
        return float(text) if text.isdecimal() else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)
