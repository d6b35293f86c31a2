"""The US equity exchange calendar: sessions, holidays, early closes and session labels.

Built once from exchange-calendars' ``XNYS`` schedule (imported lazily: it pulls in pandas) by the
day's first process, which stores the sessions for the others (``market.calendar_cache``: they
read them back without pandas), then answered with plain ``datetime`` arithmetic and ``bisect``,
so a dashboard may ask for the session label on every refresh. Nothing here imports a front end
or an SDK: the core reaches it through the small ``MarketCalendar`` protocol.

Regular hours are the exchange's (09:30–16:00 New York time, 13:00 on early-close days).
Extended hours follow the usual broker convention: pre-market from 04:00 to the open, after-hours
from the close to 20:00 (17:00 after an early close), on trading days only.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Protocol

from tui_trader.core.timeframes import NEW_YORK

PRE_MARKET_START = time(4, 0)
"""When pre-market trading begins, New York time."""
AFTER_HOURS_END = time(20, 0)
"""When after-hours trading ends on a full day, New York time."""
EARLY_AFTER_HOURS_END = time(17, 0)
"""When after-hours trading ends after an early (13:00) close, New York time."""
REGULAR_CLOSE = time(16, 0)
"""The regular close; a session closing before it is an early close."""
CALENDAR_START = date(1995, 1, 1)
"""The first day the loaded calendar covers (exchange-calendars covers a year ahead of today)."""


class CalendarError(ValueError):
    """A question the calendar cannot answer: a naive timestamp or a date outside its range."""


class SessionLabel(StrEnum):
    """Where a moment falls in the trading day: the tag a positions table shows beside a price."""

    PRE = "PRE"
    OPEN = "OPEN"
    AFTER = "AFTER"
    CLOSED = "CLOSED"


class MarketCalendar(Protocol):
    """What the core (risk limits, the engine's pacing) needs to know about the exchange's hours."""

    def session_label(self, ts: datetime) -> SessionLabel:
        """PRE, OPEN, AFTER or CLOSED for a timezone-aware timestamp."""
        ...

    def is_open(self, ts: datetime) -> bool:
        """True during regular trading hours."""
        ...

    def next_open(self, ts: datetime) -> datetime:
        """The first regular open strictly after ``ts`` (UTC)."""
        ...

    def next_close(self, ts: datetime) -> datetime:
        """The first regular close strictly after ``ts`` (UTC)."""
        ...

    def session_day(self, ts: datetime) -> date:
        """The trading session ``ts`` belongs to (the daily-loss window's key)."""
        ...


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day: its date and its regular open and close, both UTC."""

    day: date
    open: datetime
    close: datetime

    @property
    def early_close(self) -> bool:
        """True when the exchange closes before 16:00 New York time (half days)."""
        return self.close.astimezone(NEW_YORK).time() < REGULAR_CLOSE

    @property
    def pre_start(self) -> datetime:
        """When this day's pre-market begins (04:00 New York), UTC."""
        return _ny(self.day, PRE_MARKET_START)

    @property
    def after_end(self) -> datetime:
        """When this day's after-hours end (20:00, or 17:00 after an early close), UTC."""
        return _ny(self.day, EARLY_AFTER_HOURS_END if self.early_close else AFTER_HOURS_END)


class ExchangeCalendar:
    """A list of sessions with the questions a trading desk asks of it, answered by bisection."""

    def __init__(self, sessions: Sequence[Session], name: str = "XNYS") -> None:
        """Wrap sessions sorted by day (see ``load`` for the real exchange's)."""
        if not sessions:
            raise CalendarError(f"{name}: calendar has no sessions")
        self.name = name
        self._sessions = list(sessions)
        self._days = [s.day for s in self._sessions]
        self._opens = [s.open for s in self._sessions]
        self._closes = [s.close for s in self._sessions]
        self._pre_starts = [s.pre_start for s in self._sessions]

    @classmethod
    def load(
        cls, name: str = "XNYS", start: date = CALENDAR_START, end: date | None = None
    ) -> ExchangeCalendar:
        """Build from exchange-calendars' schedule (offline; about a tenth of a second), up to
        ``end`` (default: the library's, about a year ahead of today)."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecation chatter from inside the library
            import exchange_calendars as xcals

            schedule = xcals.get_calendar(
                name, start=start.isoformat(), end=end.isoformat() if end else None
            ).schedule
        # one Timestamp at a time: Series.dt.to_pydatetime() warns on pandas 2.x (its result
        # type changes in 3.0), and that warning reached every user's terminal
        sessions = [
            Session(
                day.date(), o.to_pydatetime().astimezone(UTC), c.to_pydatetime().astimezone(UTC)
            )
            for day, o, c in zip(schedule.index, schedule["open"], schedule["close"], strict=True)
        ]
        return cls(sessions, name)

    @classmethod
    def cached(cls, name: str = "XNYS") -> ExchangeCalendar:
        """The whole calendar (``load``'s), read from the day's file of
        ``market.calendar_cache`` when one checks out (a few milliseconds, no pandas); else
        built by ``load`` and stored there for the day's next processes."""
        from tui_trader.market import calendar_cache

        version = calendar_cache.library_version()
        if version is None:  # (not installed as a distribution: nothing to key a file by)
            return cls.load(name)
        today = calendar_cache.today()
        path = calendar_cache.cache_file(name, version, today)
        key = f"{name} {version} built {today.isoformat()} from {CALENDAR_START.isoformat()}"
        stored = calendar_cache.read(path, key)
        if stored is not None:
            return cls([Session(*row) for row in stored], name)
        built = cls.load(name)
        calendar_cache.write(path, key, [(s.day, s.open, s.close) for s in built._sessions])
        return built

    # -- days ----------------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        """The first session the calendar knows."""
        return self._days[0]

    @property
    def last_day(self) -> date:
        """The last session the calendar knows (about a year ahead of today)."""
        return self._days[-1]

    def session(self, day: date) -> Session | None:
        """The session on ``day``, or ``None`` on weekends and holidays."""
        i = bisect.bisect_left(self._days, day)
        return self._sessions[i] if i < len(self._days) and self._days[i] == day else None

    def open_of(self, day: date) -> datetime:
        """Where a daily bar of ``day`` is stamped: its session's regular open (UTC), or 09:30
        New York on a day the calendar does not list (a bar of a holiday or beyond its range)."""
        session = self.session(day)
        if session is not None:
            return session.open
        return datetime.combine(day, time(9, 30), tzinfo=NEW_YORK).astimezone(UTC)

    def is_session(self, day: date) -> bool:
        """True when the exchange trades on ``day``."""
        return self.session(day) is not None

    def sessions_between(self, first: date, last: date) -> list[Session]:
        """Sessions from ``first`` to ``last``, both included."""
        lo = bisect.bisect_left(self._days, first)
        hi = bisect.bisect_right(self._days, last)
        return self._sessions[lo:hi]

    def sessions_back(self, last: date, count: int) -> list[Session]:
        """The ``count`` sessions ending on ``last`` (or the latest session before it)."""
        hi = bisect.bisect_right(self._days, last)
        return self._sessions[max(hi - count, 0) : hi]

    def last_completed(self, ts: datetime) -> Session | None:
        """The latest session whose regular close is at or before ``ts``."""
        i = bisect.bisect_right(self._closes, _utc(ts)) - 1
        return self._sessions[i] if i >= 0 else None

    # -- moments -------------------------------------------------------------------------------

    def session_label(self, ts: datetime) -> SessionLabel:
        """PRE (04:00–open), OPEN, AFTER (close–20:00) on trading days; CLOSED otherwise."""
        moment = _utc(ts)
        current = self.session(moment.astimezone(NEW_YORK).date())
        if current is None:
            return SessionLabel.CLOSED
        if current.open <= moment < current.close:
            return SessionLabel.OPEN
        if current.pre_start <= moment < current.open:
            return SessionLabel.PRE
        if current.close <= moment < current.after_end:
            return SessionLabel.AFTER
        return SessionLabel.CLOSED

    def is_open(self, ts: datetime) -> bool:
        """True during regular trading hours (open included, close excluded)."""
        return self.session_label(ts) is SessionLabel.OPEN

    def next_open(self, ts: datetime) -> datetime:
        """The first regular open strictly after ``ts``, UTC."""
        return self._next(self._opens, ts, "open")

    def next_close(self, ts: datetime) -> datetime:
        """The first regular close strictly after ``ts``, UTC (today's while the market is open)."""
        return self._next(self._closes, ts, "close")

    def session_day(self, ts: datetime) -> date:
        """The latest session whose pre-market (04:00 New York) has begun by ``ts``.

        So a whole trading day, from pre-market through after-hours and the night and weekend
        that follow, counts as one session until the next session's pre-market begins.
        """
        moment = _utc(ts)
        i = bisect.bisect_right(self._pre_starts, moment) - 1
        if i < 0:
            raise CalendarError(f"{moment:%Y-%m-%d %H:%M} UTC is before the calendar's first day")
        return self._days[i]

    def _next(self, moments: list[datetime], ts: datetime, what: str) -> datetime:
        """The first of ``moments`` strictly after ``ts``."""
        i = bisect.bisect_right(moments, _utc(ts))
        if i >= len(moments):
            raise CalendarError(f"no {what} known after {self.last_day} (calendar range ends)")
        return moments[i]


@functools.cache
def us_equity_calendar() -> ExchangeCalendar:
    """The New York Stock Exchange calendar, loaded once per process (from the day's cache
    file when there is one: ``ExchangeCalendar.cached``)."""
    return ExchangeCalendar.cached("XNYS")


def session_label(ts: datetime) -> SessionLabel:
    """PRE, OPEN, AFTER or CLOSED for a timezone-aware timestamp (US equities)."""
    return us_equity_calendar().session_label(ts)


def is_open(ts: datetime) -> bool:
    """True during the regular US equity session."""
    return us_equity_calendar().is_open(ts)


def next_open(ts: datetime) -> datetime:
    """The next regular US equity open strictly after ``ts``, UTC."""
    return us_equity_calendar().next_open(ts)


def next_close(ts: datetime) -> datetime:
    """The next regular US equity close strictly after ``ts``, UTC."""
    return us_equity_calendar().next_close(ts)


def session_day(ts: datetime) -> date:
    """The US equity session ``ts`` belongs to (see ``ExchangeCalendar.session_day``)."""
    return us_equity_calendar().session_day(ts)


def _utc(ts: datetime) -> datetime:
    """``ts`` in UTC; a naive timestamp is refused rather than guessed."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise CalendarError(f"timestamp {ts.isoformat()} has no time zone")
    return ts.astimezone(UTC)


def _ny(day: date, at: time) -> datetime:
    """``at`` New York time on ``day``, in UTC."""
    return datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(UTC)
