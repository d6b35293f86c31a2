"""Clocks: where "now" comes from, and how the session waits between decision cycles.

The audit trail stamps every row with the wall clock; tests inject a frozen clock so that
snapshots and reports do not depend on when they run. Waiting always goes through a
``threading.Event`` so that a kill switch or Ctrl+C interrupts it at once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current UTC time and an interruptible wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to ``seconds``; return True if ``stop`` was set (the wait was interrupted)."""
        ...


class WallClock:
    """The real clock."""

    def now(self) -> datetime:
        """The system's current UTC time."""
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Block on the stop event for at most ``seconds``."""
        return stop.wait(max(seconds, 0.0))


class FrozenClock:
    """A clock for tests: starts at ``start`` and moves by ``step`` each time it is read.

    Waiting advances it by the waited time and returns at once, so a test of a paced session
    runs at full speed and still sees time pass.
    """

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._step = step
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The frozen time, then moved on by one step."""
        with self._lock:
            current = self._now
            self._now += self._step
            return current

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Advance by ``seconds`` without sleeping."""
        with self._lock:
            self._now += timedelta(seconds=max(seconds, 0.0))
        return stop.is_set()
