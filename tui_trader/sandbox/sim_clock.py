"""The sandbox's one simulated time: ``/v2/clock``, the market hours, order times and the bars.

At ``--speed S`` the simulated time runs S times as fast as the wall clock, from where it
stood when the speed was set (it starts at the wall time); paused (``0``) it runs at the wall
clock's pace, and the market moves only when stepped. A paced bar is produced once the simulated
time has passed its end (``Sandbox._pace``), so the newest bar never ends after the clock's
``timestamp`` and the clock is never a whole bar interval past the newest bar's end, at any
speed. ``POST /admin/step`` (the tests' lever) moves the market, not the time: stepped bars may
run ahead of the clock, and the order times stay comparable with a desk's wall clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime


class SimClock:
    """Simulated time from a wall clock and a speed; thread-safe."""

    def __init__(self, wall: Callable[[], datetime], speed: float) -> None:
        """Start at the wall clock's time, running at ``speed``."""
        self._wall = wall
        self._lock = threading.Lock()
        start = wall()
        self._anchor = (start, start)
        """(wall time, simulated time) at the last change of pace."""
        self._rate = speed if speed > 0 else 1.0

    def now(self) -> datetime:
        """The simulated time now (timezone-aware, like the wall clock)."""
        with self._lock:
            return self._at(self._wall())

    def _at(self, wall: datetime) -> datetime:
        """The simulated time at wall time ``wall`` (the lock held)."""
        wall0, sim0 = self._anchor
        return sim0 + (wall - wall0) * self._rate

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from now on (the wall clock's pace when paused), without a jump."""
        with self._lock:
            wall = self._wall()
            self._anchor = (wall, self._at(wall))
            self._rate = speed if speed > 0 else 1.0
