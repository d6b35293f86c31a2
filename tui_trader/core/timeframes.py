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

MAX_PERIOD_YEARS = 50
"""The longest history a period may name: more is a typo, and would take minutes and gigabytes."""
MAX_WARMUP_BARS = 100_000
"""The most bars per symbol a warm-up may hold (a year of 1m bars is 98,280)."""
_INTERVAL_RE = re.compile(r"^([0-9]{1,6})(m|h|d)$", re.ASCII)
_PERIOD_RE = re.compile(r"^([0-9]+)(d|wk|mo|y)$", re.ASCII)
"""ASCII digits only: ``int()`` would take ``５`` or ``٥`` too; any count (only seven digits are
read: a longer one is past the bound, and ``int()`` of 10**4000 digits raises)."""
_INTERVAL_ALIASES = {"60m": "1h", "1wk": "5d"}
_MONTH_LOOKING = re.compile(r"\s*[0-9]+M\s*$")
"""``1M``: a month in pandas, TradingView and Alpaca's own timeframes, read here (any case) as a
minute: ``paper --interval 1M`` ran on one-minute bars without a word."""


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
    if _MONTH_LOOKING.match(text):
        raise TimeframeError(
            f"interval {_shown(text)} is ambiguous: capital M is a month in many tools; write "
            f"{text.strip()[:-1]}m for minutes (a bar is at most a day: 1d)"
        )
    raw = text.strip().lower()
    raw = _INTERVAL_ALIASES.get(raw, raw)
    match = _INTERVAL_RE.match(raw)
    if not match or int(match.group(1)) == 0:
        raise TimeframeError(f"unknown interval {_shown(text)} (use e.g. 1m, 5m, 15m, 1h, 1d)")
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
    digits = match.group(1).lstrip("0") if match else ""
    if not digits:
        raise TimeframeError(f"unknown period {_shown(text)} (use e.g. 5d, 60d, 6mo, 1y)")
    # seven digits and more is past the bound: 1000000d was an "unknown period" (99999y not);
    # only the first seven are read (int() of 10**4000 digits raises)
    count, unit = int(digits[:7]), match.group(2)
    days = {"d": count, "wk": 5 * count, "mo": 21 * count, "y": TRADING_DAYS_PER_YEAR * count}
    if days[unit] > MAX_PERIOD_YEARS * TRADING_DAYS_PER_YEAR:
        raise TimeframeError(f"period {_shown(text)} is longer than {MAX_PERIOD_YEARS} years")
    return Period(text=raw, trading_days=days[unit])


def check_warmup(period: Period, interval: Interval) -> None:
    """Refuse a warm-up of more than ``MAX_WARMUP_BARS`` bars of ``interval``."""
    bars = period.bars(interval)
    if bars > MAX_WARMUP_BARS:
        raise TimeframeError(
            f"--period {period.text} of {interval.text} bars is {bars:,} bars of warm-up per "
            f"symbol; at most {MAX_WARMUP_BARS:,} (choose a shorter period or a longer interval)"
        )


def _shown(text: str) -> str:
    """A user's value quoted for a message, cut short if long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


NEW_YORK = ZoneInfo("America/New_York")
"""The exchange's time zone: trading days and sessions are counted in it."""


_DAY_SPAN: tuple[datetime, datetime, date] | None = None
"""The last New York day ``trading_day`` worked out: its first instant, the next day's first
instant, and the date (a session asks for the same day every cycle)."""


def trading_day(ts: datetime) -> date:
    """The New York calendar date a UTC timestamp falls on: the key of the daily-loss window."""
    global _DAY_SPAN
    span = _DAY_SPAN
    if span is not None and ts.tzinfo is not None and span[0] <= ts < span[1]:
        return span[2]
    day = ts.astimezone(NEW_YORK).date()
    if ts.tzinfo is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=NEW_YORK)
        # held in the timestamp's own zone: comparing within one zone skips the offsets
        _DAY_SPAN = (start.astimezone(ts.tzinfo), end.astimezone(ts.tzinfo), day)
    return day
