"""The simulated market's trading days: the NYSE's sessions, so that holidays have no bars and
an early close (13:00 New York) ends the day's bars.

The days are the exchange calendar's (exchange-calendars' ``XNYS``, the one ``market.calendar``
loads) over a fixed span, ``SIM_CALENDAR_START`` to ``SIM_CALENDAR_END``, written down here as
the weekdays the exchange is closed and the days it closes early. Written down rather than
loaded because:

- loading the calendar imports pandas: 0.7 s on an idle machine, 1-1.5 s on a busy one, which
  more than doubled a headless ``tui-trader paper`` run on the simulated market (~0.8 s);
- a seeded market must give the same bars whenever it runs, and the loaded calendar's range
  moves with today's date (it ends about a year ahead of today).

``tests/unit/test_sim_days.py`` checks the table against exchange-calendars day by day (and
prints the new table when the library's rules change). Outside the span the days are plain
weekdays of 09:30-16:00, and the market says so once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tui_trader.core.timeframes import NEW_YORK, TRADING_MINUTES_PER_DAY

SIM_CALENDAR_START = date(2024, 1, 1)
"""The first day the table covers (the simulated market starts on 2024-01-02)."""
SIM_CALENDAR_END = date(2035, 12, 31)
"""The last day the table covers."""
EARLY_CLOSE_MINUTES = 210
"""An early close's session: 09:30 to 13:00 New York time."""

_CLOSED = """
2024-01-01 2024-01-15 2024-02-19 2024-03-29 2024-05-27 2024-06-19 2024-07-04 2024-09-02
2024-11-28 2024-12-25 2025-01-01 2025-01-09 2025-01-20 2025-02-17 2025-04-18 2025-05-26
2025-06-19 2025-07-04 2025-09-01 2025-11-27 2025-12-25 2026-01-01 2026-01-19 2026-02-16
2026-04-03 2026-05-25 2026-06-19 2026-07-03 2026-09-07 2026-11-26 2026-12-25 2027-01-01
2027-01-18 2027-02-15 2027-03-26 2027-05-31 2027-06-18 2027-07-05 2027-09-06 2027-11-25
2027-12-24 2028-01-17 2028-02-21 2028-04-14 2028-05-29 2028-06-19 2028-07-04 2028-09-04
2028-11-23 2028-12-25 2029-01-01 2029-01-15 2029-02-19 2029-03-30 2029-05-28 2029-06-19
2029-07-04 2029-09-03 2029-11-22 2029-12-25 2030-01-01 2030-01-21 2030-02-18 2030-04-19
2030-05-27 2030-06-19 2030-07-04 2030-09-02 2030-11-28 2030-12-25 2031-01-01 2031-01-20
2031-02-17 2031-04-11 2031-05-26 2031-06-19 2031-07-04 2031-09-01 2031-11-27 2031-12-25
2032-01-01 2032-01-19 2032-02-16 2032-03-26 2032-05-31 2032-06-18 2032-07-05 2032-09-06
2032-11-25 2032-12-24 2033-01-17 2033-02-21 2033-04-15 2033-05-30 2033-06-20 2033-07-04
2033-09-05 2033-11-24 2033-12-26 2034-01-02 2034-01-16 2034-02-20 2034-04-07 2034-05-29
2034-06-19 2034-07-04 2034-09-04 2034-11-23 2034-12-25 2035-01-01 2035-01-15 2035-02-19
2035-03-23 2035-05-28 2035-06-19 2035-07-04 2035-09-03 2035-11-22 2035-12-25
"""
"""Weekdays the exchange is closed (holidays, and 2025-01-09, a national day of mourning)."""

_EARLY = """
2024-07-03 2024-11-29 2024-12-24 2025-07-03 2025-11-28 2025-12-24 2026-11-27 2026-12-24
2027-11-26 2028-07-03 2028-11-24 2029-07-03 2029-11-23 2029-12-24 2030-07-03 2030-11-29
2030-12-24 2031-07-03 2031-11-28 2031-12-24 2032-11-26 2033-11-25 2034-07-03 2034-11-24
2035-07-03 2035-11-23 2035-12-24
"""
"""Days the exchange closes at 13:00 New York time."""


@functools.cache
def closed_days() -> frozenset[date]:
    """The weekdays of the span the exchange is closed."""
    return frozenset(date.fromisoformat(d) for d in _CLOSED.split())


@functools.cache
def early_closes() -> frozenset[date]:
    """The days of the span the exchange closes early."""
    return frozenset(date.fromisoformat(d) for d in _EARLY.split())


@dataclass(frozen=True, slots=True)
class SimDay:
    """One simulated trading day: its date, regular open (UTC) and length in minutes."""

    day: date
    open_utc: datetime
    minutes: int


class SimDays:
    """Hands out the simulated market's days in order: the exchange's sessions within the
    span, plain weekdays outside it. ``report`` receives the one-line note said the first
    time a day falls outside the span (it is also kept in ``notes``)."""

    def __init__(self, report: Callable[[str], None] | None = None) -> None:
        self._report = report
        self.notes: list[str] = []
        """What was said about the days (at most one note)."""

    def first(self, start: date) -> SimDay:
        """The first trading day on or after ``start``."""
        return self._on_or_after(start)

    def after(self, day: date) -> SimDay:
        """The next trading day after ``day``."""
        return self._on_or_after(day + timedelta(days=1))

    def _on_or_after(self, day: date) -> SimDay:
        """The first weekday on or after ``day`` the exchange trades (any weekday outside the
        span), with its length."""
        closed = closed_days()
        while day.weekday() >= 5 or day in closed:
            day += timedelta(days=1)
        if not SIM_CALENDAR_START <= day <= SIM_CALENDAR_END:
            self._outside(day)
            minutes = TRADING_MINUTES_PER_DAY
        else:
            minutes = EARLY_CLOSE_MINUTES if day in early_closes() else TRADING_MINUTES_PER_DAY
        opens = datetime.combine(day, time(9, 30), tzinfo=NEW_YORK).astimezone(UTC)
        return SimDay(day, opens, minutes)

    def _outside(self, day: date) -> None:
        """Say, once, that the days are plain weekdays from ``day`` on."""
        if self.notes:
            return
        note = (
            f"simulated day {day} is outside the exchange calendar the simulated market follows "
            f"({SIM_CALENDAR_START} to {SIM_CALENDAR_END}): its days are plain weekdays there "
            "(no holidays, no early closes)"
        )
        self.notes.append(note)
        if self._report is not None:
            self._report(note)
