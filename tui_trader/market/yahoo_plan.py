"""What to ask Yahoo for: its intervals and limits, the window a request spans, what is missing.

Pure functions of the calendar and the clock (no network, no yfinance), so the rules are tested
directly: which intervals Yahoo serves and how far back, how many sessions a period needs, which
ranges of a cached file are missing (a head before it, a tail after it), whether the cached
bars still say what Yahoo says now (``restated``), and how a long one-minute range is cut into
the seven-day pieces Yahoo accepts per request.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

import polars as pl

from tui_trader.core.timeframes import NEW_YORK, Interval
from tui_trader.market import MarketDataError
from tui_trader.market.cache import Coverage
from tui_trader.market.calendar import CalendarError, ExchangeCalendar

YAHOO_MINUTES = (1, 2, 5, 15, 30, 60, 390)
"""Bar lengths Yahoo serves that the desk also understands (1m, 2m, 5m, 15m, 30m, 1h, 1d)."""
HISTORY_LIMIT_DAYS = {1: 30, 2: 60, 5: 60, 15: 60, 30: 60, 60: 730}
"""How many calendar days back Yahoo keeps intraday bars, by bar length in minutes."""
REQUEST_SPAN_DAYS = {1: 7}
"""The longest span one request may cover, by bar length (Yahoo: 7 days of 1m bars at a time)."""


def check_yahoo_interval(interval: Interval) -> None:
    """Refuse, in one line, an interval Yahoo does not serve."""
    if interval.minutes not in YAHOO_MINUTES:
        raise MarketDataError(
            f"Yahoo Finance has no {interval.text} bars (it serves 1m, 2m, 5m, 15m, 30m, 1h, 1d)"
        )


def check_history_limit(interval: Interval, start: datetime, now: datetime) -> None:
    """Refuse a start further back than Yahoo keeps bars of this interval, saying the limit."""
    limit = HISTORY_LIMIT_DAYS.get(interval.minutes)
    if limit is None:
        return
    if now - start > timedelta(days=limit):
        per_request = REQUEST_SPAN_DAYS.get(interval.minutes)
        extra = f", {per_request} days per request" if per_request else ""
        raise MarketDataError(
            f"Yahoo keeps {interval.text} bars for the last {limit} days only{extra}; the request "
            f"starts {start:%Y-%m-%d}, {(now - start).days} days ago: use a shorter --period "
            f"or a longer --interval"
        )


def window_start(
    interval: Interval, bars: int, now: datetime, calendar: ExchangeCalendar
) -> datetime:
    """The open of the earliest session needed so that ``bars`` completed bars end by ``now``.

    Counts whole sessions back from the latest completed session (the bars of a session under
    way come on top); a daily window starts at midnight New York of its first day.
    """
    days = max(math.ceil(bars / interval.bars_per_day), 1)
    latest = calendar.last_completed(now)
    if latest is None:
        raise MarketDataError(f"no completed session before {now:%Y-%m-%d}")
    sessions = calendar.sessions_back(latest.day, days)
    if len(sessions) < days:
        raise MarketDataError(f"the calendar does not reach back {days} sessions")
    first = sessions[0]
    if interval.is_daily:
        return datetime.combine(first.day, time(0), tzinfo=NEW_YORK).astimezone(now.tzinfo)
    return first.open


def missing_ranges(
    covered: Coverage | None,
    last_bar: datetime | None,
    start: datetime,
    now: datetime,
    interval: Interval,
    calendar: ExchangeCalendar,
) -> list[tuple[datetime, datetime]]:
    """The ranges to download so the cache answers ``[start, now]``: none, a head, a tail, both.

    With nothing cached the whole range is missing. The tail is missing only if a bar has
    completed since the cache was last brought up to date; it starts right after the newest
    cached bar (the next day at midnight New York for daily bars), so nothing cached is asked
    for again.
    """
    if covered is None:
        return [(start, now)]
    ranges: list[tuple[datetime, datetime]] = []
    if start < covered.covered_from:
        ranges.append((start, covered.covered_from))
    if bar_completed_between(covered.covered_to, now, interval, calendar):
        tail = covered.covered_to if last_bar is None else after_bar(last_bar, interval)
        ranges.append((max(tail, start), now))
    return ranges


def bar_completed_between(
    since: datetime, now: datetime, interval: Interval, calendar: ExchangeCalendar
) -> bool:
    """True if some bar of ``interval`` ended after ``since`` and by ``now``."""
    try:
        if interval.is_daily:
            return calendar.next_close(since) <= now
        session = calendar.session(since.astimezone(NEW_YORK).date())
        if session is not None and session.open <= since < session.close:
            elapsed = (since - session.open) // interval.duration
            end = min(session.open + (elapsed + 1) * interval.duration, session.close)
        else:
            opens = calendar.next_open(since)
            end = opens + interval.duration
        return end <= now
    except CalendarError:
        return True


def after_bar(timestamp: datetime, interval: Interval) -> datetime:
    """Where a request for the bars after ``timestamp`` starts."""
    if interval.is_daily:
        day = timestamp.astimezone(NEW_YORK).date() + timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(timestamp.tzinfo)
    return timestamp + interval.duration


RESTATED_AT = 0.005
"""A cached close off Yahoo's present one by more than this fraction: the history was restated."""


def seam_start(last_bar: datetime, interval: Interval) -> datetime:
    """Where a tail request starts so that it asks for the newest cached bar again (the seam
    ``restated`` compares): that bar's own start, its day's midnight New York for daily bars."""
    if interval.is_daily:
        day = last_bar.astimezone(NEW_YORK).date()
        return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(last_bar.tzinfo)
    return last_bar


def restated(cached: pl.DataFrame, fresh: pl.DataFrame, seam: datetime) -> str | None:
    """How the close of the bar at ``seam`` moved between the cache and a fresh download, when
    Yahoo restated it (``"200.00 cached, 100.00 now"``), else None.

    Yahoo's closes are split-adjusted back through history: after a split every earlier bar is
    restated (halved, for two for one). Bars cached before it, joined to bars fetched after it,
    would show the split as a price falling by half overnight: a loss the account never had,
    which trips the drawdown halt, and indicators warmed up across the break."""
    old = cached.filter(pl.col("timestamp") == seam).get_column("close")
    new = fresh.filter(pl.col("timestamp") == seam).get_column("close")
    if old.is_empty() or new.is_empty():
        return None
    before, now = float(old[0]), float(new[0])
    if abs(now / before - 1.0) <= RESTATED_AT:
        return None
    return f"{before:,.2f} cached, {now:,.2f} now"


def request_chunks(
    start: datetime, end: datetime, interval: Interval
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into spans no longer than Yahoo accepts in one request."""
    span_days = REQUEST_SPAN_DAYS.get(interval.minutes)
    if span_days is None or end - start <= timedelta(days=span_days):
        return [(start, end)]
    step = timedelta(days=span_days)
    chunks = []
    cursor = start
    while cursor < end:
        chunks.append((cursor, min(cursor + step, end)))
        cursor += step
    return chunks
