"""When the sandbox's exchange is open: around the clock, or the real New York hours.

``24h`` (the default) keeps the market open every day, all day, so that a rehearsal works at any
hour; its "sessions" are New York calendar days. ``real`` follows the NYSE: weekdays 09:30-16:00
New York time, with holidays and early closes from ``exchange_calendars`` when it imports (plain
weekdays otherwise).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tui_trader.core.timeframes import NEW_YORK


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session: its New York date and its open and close as aware datetimes."""

    day: date
    open: datetime
    close: datetime


class MarketHours:
    """Answers "is the market open" and lists sessions for the clock and calendar endpoints."""

    def __init__(self, mode: str = "24h") -> None:
        """``mode`` is ``24h`` or ``real``."""
        if mode not in ("24h", "real"):
            raise ValueError(f"unknown hours mode {mode!r} (use 24h or real)")
        self.mode = mode
        self._xnys = _load_xnys() if mode == "real" else None

    def session(self, day: date) -> Session | None:
        """The session on New York date ``day``, or None when the exchange is shut that day."""
        if self.mode == "24h":
            start = datetime.combine(day, time(0, 0), tzinfo=NEW_YORK)
            end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=NEW_YORK)
            return Session(day, start, end)
        if self._xnys is not None:
            return _xnys_session(self._xnys, day)
        if day.weekday() >= 5:
            return None
        return Session(
            day,
            datetime.combine(day, time(9, 30), tzinfo=NEW_YORK),
            datetime.combine(day, time(16, 0), tzinfo=NEW_YORK),
        )

    def sessions(self, start: date, end: date) -> list[Session]:
        """Every session from ``start`` to ``end`` inclusive (at most about three years)."""
        out = []
        day = start
        for _ in range(min((end - start).days + 1, 1200)):
            found = self.session(day)
            if found is not None:
                out.append(found)
            day += timedelta(days=1)
        return out

    def is_open(self, now: datetime) -> bool:
        """True while ``now`` falls inside a session."""
        found = self.session(now.astimezone(NEW_YORK).date())
        return found is not None and found.open <= now < found.close

    def next_open(self, now: datetime) -> datetime:
        """The next session open strictly after ``now``."""
        day = now.astimezone(NEW_YORK).date()
        for _ in range(30):
            found = self.session(day)
            if found is not None and found.open > now:
                return found.open
            day += timedelta(days=1)
        raise RuntimeError("no session open in the next 30 days")

    def next_close(self, now: datetime) -> datetime:
        """The close of the session in progress, or of the next session."""
        day = now.astimezone(NEW_YORK).date()
        for _ in range(30):
            found = self.session(day)
            if found is not None and found.close > now:
                return found.close
            day += timedelta(days=1)
        raise RuntimeError("no session close in the next 30 days")


def _load_xnys() -> object | None:
    """The XNYS calendar from ``exchange_calendars``, or None if it cannot be loaded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecation chatter from inside the library
            import exchange_calendars as xcals

            return xcals.get_calendar("XNYS")
    except Exception:
        return None


def _xnys_session(calendar: object, day: date) -> Session | None:
    """One day's session from an ``exchange_calendars`` calendar (None on a holiday/weekend)."""
    import pandas as pd

    label = pd.Timestamp(day)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not calendar.is_session(label):  # type: ignore[attr-defined]
                return None
            open_, close = calendar.session_open_close(label)  # type: ignore[attr-defined]
    except Exception:  # outside the calendar's range: fall back to plain weekdays
        if day.weekday() >= 5:
            return None
        open_ = datetime.combine(day, time(9, 30), tzinfo=NEW_YORK)
        close = datetime.combine(day, time(16, 0), tzinfo=NEW_YORK)
        return Session(day, open_, close)
    return Session(
        day,
        open_.to_pydatetime().astimezone(UTC).astimezone(NEW_YORK),
        close.to_pydatetime().astimezone(UTC).astimezone(NEW_YORK),
    )
