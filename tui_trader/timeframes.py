"""Bar intervals and history periods, parsed once from the words users type.

``--interval 1m`` and ``--period 60d`` mean the same thing to every data source, so their parsing
and their arithmetic (how many bars a period holds, how long a bar lasts) live here, apart from
any adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TRADING_MINUTES_PER_DAY = 390
"""Regular US equity session: 09:30 to 16:00 New York time."""
TRADING_DAYS_PER_YEAR = 252

_INTERVAL_RE = re.compile(r"^(\d+)(m|h|d)$")
_PERIOD_RE = re.compile(r"^(\d+)(d|wk|mo|y)$")
_INTERVAL_ALIASES = {"60m": "1h", "1wk": "5d"}


class TimeframeError(ValueError):
    """A user-typed interval or period that the desk does not understand."""


@dataclass(frozen=True, slots=True)
class Interval:
    """The length of one bar, from one minute to one trading day."""

    text: str
    minutes: int
    """Trading minutes in one bar; a daily bar counts the whole regular session (390)."""

    @property
    def is_daily(self) -> bool:
        """True for daily bars, which are stamped at the session's open and span overnight."""
        return self.minutes >= TRADING_MINUTES_PER_DAY

    @property
    def bars_per_day(self) -> int:
        """How many bars of this interval start in one regular session; like Yahoo's hourly
        bars, the last one may be shorter (09:30 ... 15:30 for 1h)."""
        return max(-(-TRADING_MINUTES_PER_DAY // self.minutes), 1)

    @property
    def duration(self) -> timedelta:
        """Wall-clock length of one bar (a day for daily bars)."""
        return timedelta(days=1) if self.is_daily else timedelta(minutes=self.minutes)

    @property
    def year_fraction(self) -> float:
        """The share of a trading year one bar covers, for scaling annual drift and volatility."""
        return self.minutes / (TRADING_MINUTES_PER_DAY * TRADING_DAYS_PER_YEAR)


@dataclass(frozen=True, slots=True)
class Period:
    """A span of history, counted in trading days."""

    text: str
    trading_days: int

    def bars(self, interval: Interval) -> int:
        """How many bars of ``interval`` this period holds."""
        return self.trading_days * interval.bars_per_day


def parse_interval(text: str) -> Interval:
    """Parse ``1m``, ``5m``, ``15m``, ``30m``, ``1h`` (or ``60m``), ``1d``; raise otherwise."""
    raw = text.strip().lower()
    raw = _INTERVAL_ALIASES.get(raw, raw)
    match = _INTERVAL_RE.match(raw)
    if not match or int(match.group(1)) == 0:
        raise TimeframeError(f"unknown interval {text!r} (use e.g. 1m, 5m, 15m, 1h, 1d)")
    count, unit = int(match.group(1)), match.group(2)
    minutes = {"m": count, "h": 60 * count, "d": TRADING_MINUTES_PER_DAY * count}[unit]
    if unit == "d" and count != 1:
        raise TimeframeError(f"unknown interval {text!r}: daily bars are 1d")
    if unit in ("m", "h") and minutes >= TRADING_MINUTES_PER_DAY:
        raise TimeframeError(f"unknown interval {text!r}: a bar that long is a day bar (1d)")
    return Interval(text=raw, minutes=minutes)


def parse_period(text: str) -> Period:
    """Parse ``5d``, ``2wk``, ``6mo``, ``1y`` into trading days; raise on anything else."""
    raw = text.strip().lower()
    match = _PERIOD_RE.match(raw)
    if not match or int(match.group(1)) == 0:
        raise TimeframeError(f"unknown period {text!r} (use e.g. 5d, 60d, 6mo, 1y)")
    count, unit = int(match.group(1)), match.group(2)
    days = {"d": count, "wk": 5 * count, "mo": 21 * count, "y": TRADING_DAYS_PER_YEAR * count}
    return Period(text=raw, trading_days=days[unit])


NEW_YORK = ZoneInfo("America/New_York")
"""The exchange's time zone: trading days and sessions are counted in it."""


def trading_day(ts: datetime) -> date:
    """The New York calendar date a UTC timestamp falls on: the key of the daily-loss window."""
    return ts.astimezone(NEW_YORK).date()
