"""Does this machine's clock still agree, as the desk runs? Judged at every heartbeat.

A desk more than ``CLOCK_TOLERANCE`` off the PostgreSQL store's clock does not start
(``store.clock_check``). A clock can also jump after the start: a VM's clock stepped after a
pause, NTP stepping a drifted clock, a hand setting the date. The times the desk writes (its
order rows above all: a desk taking over its order in doubt counts the settle window from them)
would then mislead the desks beside it, as a desk started off would.

So a watched desk's heartbeats judge the clock, for nothing. A heartbeat written on
PostgreSQL returns its own ``clock_timestamp()``, compared with this machine's clock halfway
through the statement, the round trip's half as uncertainty (as the start's check). Every
other heartbeat call (the cycle's, before its orders, at most a second after a written one)
compares this machine's wall clock with its boot clock (``CLOCK_BOOTTIME``, which counts a
suspend and no step moves): their difference stays put while the clock runs true and moves by
a step, so a step shows at the very next cycle. On a SQLite file (one machine, no server) that
comparison, against the start, is the only one.

What a careful trader wants then: **no new orders while the clock disagrees** (the strategy's
and hand orders that open or grow a position: ``hold``), everything that only takes risk off
still works (protective exits, a halt and its flatten, the kill switch, a hand close, a sale of
no more than is held, the strategy's or by hand, a cancel), said in one plain line on the desk
and the CLI, and written in the audit trail as a risk event (``clock_off``). The desk resumes
by itself once the clock agrees again, a second inside the limit (``clock_agrees``, also
written; ``AGREE_MARGIN``): the times it writes are true again, and nothing written meanwhile
was a new order. NTP's slewing moves no reading (the kernel slews the wall, monotonic and boot
clocks alike). On SQLite "agrees" means back where it stood at the start (a step undone); a
clock stepped for good (NTP setting it right) keeps the hold until the desk is started again,
which takes the new time as its own.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from tui_trader.core.domain import RiskEvent
from tui_trader.risk.event_text import CLOCK_AGREES, CLOCK_OFF
from tui_trader.store.clock_check import CLOCK_TOLERANCE, clock_offset

AGREE_MARGIN = 1.0
"""Seconds back inside the limit a held clock must come before orders resume: a clock that
drifted to the limit (no NTP on it or on the server) read a few milliseconds either side at
each heartbeat, and without a margin was held and let go at every one (600 risk events in ten
minutes, orders on and off)."""
HOLD_ACTION = "no new orders until the clock agrees again (exits, halts, sales still work)"
RESUME_ACTION = "new orders allowed again"


def _wall() -> float:
    """This machine's wall clock, seconds since the epoch (a test may move it)."""
    return time.time()


def _boot() -> float:
    """This machine's boot clock (counts a suspend; no wall-clock step moves it)."""
    return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


class ClockWatch:
    """One desk's judgement of its clock, fed at each heartbeat; thread-safe (a heartbeat may
    be written from a request's watchdog thread)."""

    def __init__(self, db: Any = None) -> None:
        """Read the PostgreSQL store's clock once now (``db``, as the start's check does)."""
        self._lock = threading.Lock()
        self._base = _wall() - _boot()
        """The wall clock's lead on the boot clock when last compared with a true clock: the
        start's (SQLite: the start's check was the start itself), or a server's reading."""
        self._server: tuple[float, float] | None = None
        """The last server reading's offset and uncertainty (PostgreSQL), else ``None``."""
        if db is not None and getattr(db, "is_postgres", False):
            self._server = clock_offset(db) or (0.0, 0.0)  # unanswered: the next beat's
        self._hold: str | None = None
        self._events: list[RiskEvent] = []

    def before(self) -> float:
        """This machine's clock as a heartbeat statement is sent."""
        return _wall()

    def server_read(self, before: float, server: datetime | None) -> None:
        """A PostgreSQL heartbeat's answer: ``server``, its ``clock_timestamp()``, read between
        ``before`` (``before()``) and now."""
        after, boot = _wall(), _boot()
        if server is None:
            return
        middle = (before + after) / 2.0
        self._server = (middle - server.timestamp(), (after - before) / 2.0)
        self._base = after - boot  # both read at one instant (``middle - boot`` was biased
        # by half the round trip: a heartbeat answered 12 s after the server's stamp, a slow
        # commit's fsync, read as a clock 12 s ahead and held the desk's orders)
        self.glance()

    def glance(self) -> None:
        """Judge the clock now, for nothing (at every heartbeat call, written or not): the
        wall clock's lead on the boot clock against its lead at the last comparison moves by
        exactly a step taken since; with the server's offset then (PostgreSQL), that is the
        offset from the server's clock now. A step between two heartbeats written holds the
        very next cycle's orders."""
        offset = _wall() - _boot() - self._base
        if self._server is None:
            way = "forward" if offset > 0 else "back"
            how = f"stepped {abs(offset):.0f} s {way} since the desk started"
            self._judge(offset, 0.0, how, "it steps back or the desk is started again")
            return
        offset += self._server[0]
        way = "ahead of" if offset > 0 else "behind"
        how = f"is {abs(offset):.0f} s {way} the PostgreSQL store's"
        self._judge(offset, self._server[1], how, "it agrees again")

    def _judge(self, offset: float, uncertainty: float, how: str, until: str) -> None:
        """Hold when surely past the limit; resume once surely ``AGREE_MARGIN`` inside it (a
        reading too uncertain to tell, a heartbeat's round trip of 30 s, changes nothing)."""
        off = abs(offset) - uncertainty > CLOCK_TOLERANCE
        agrees = abs(offset) + uncertainty <= CLOCK_TOLERANCE - AGREE_MARGIN
        with self._lock:
            if off and self._hold is None:
                self._hold = (
                    f"this machine's clock {how} (more than the {CLOCK_TOLERANCE:.0f} s "
                    f"allowed), until {until} (exits, halts, closes and sales still work)"
                )
                self._events.append(
                    RiskEvent(CLOCK_OFF, offset, CLOCK_TOLERANCE, HOLD_ACTION, detail=self._hold)
                )
            elif agrees and self._hold is not None:
                self._hold = None
                said = f"this machine's clock agrees again ({offset:+.0f} s): new orders resume"
                self._events.append(
                    RiskEvent(CLOCK_AGREES, offset, CLOCK_TOLERANCE, RESUME_ACTION, detail=said)
                )

    def hold(self) -> str | None:
        """Why new orders wait now (one plain line), or ``None`` while the clock agrees."""
        return self._hold

    def take_events(self) -> list[RiskEvent]:
        """The holds and resumes found since last asked, oldest first (to be written)."""
        with self._lock:
            events, self._events = self._events, []
        return events
