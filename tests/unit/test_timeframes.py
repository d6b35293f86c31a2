"""Intervals and periods: the words users type, and the arithmetic behind them."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui_trader.core.timeframes import TimeframeError, parse_interval, parse_period, trading_day


@pytest.mark.parametrize(
    ("text", "minutes", "per_day"),
    [
        ("1m", 1, 390),
        ("5m", 5, 78),
        ("15m", 15, 26),
        ("30m", 30, 13),
        ("1h", 60, 7),
        ("60m", 60, 7),
        ("1d", 390, 1),
        (" 1D ", 390, 1),
    ],
)
def test_intervals_parse(text: str, minutes: int, per_day: int) -> None:
    """Every accepted interval knows its length and how many bars fit in a session."""
    interval = parse_interval(text)
    assert interval.minutes == minutes
    assert interval.bars_per_day == per_day


@pytest.mark.parametrize("text", ["7x", "", "0m", "2d", "400m", "7h", "1y", "m", "-1m"])
def test_bad_intervals_are_refused_with_the_value(text: str) -> None:
    """Unknown intervals raise an error that quotes what was typed."""
    with pytest.raises(TimeframeError, match="interval"):
        parse_interval(text)


@pytest.mark.parametrize(
    ("text", "days"), [("5d", 5), ("60d", 60), ("2wk", 10), ("6mo", 126), ("1y", 252)]
)
def test_periods_count_trading_days(text: str, days: int) -> None:
    """Periods become trading days."""
    assert parse_period(text).trading_days == days


@pytest.mark.parametrize("text", ["7x", "0d", "", "d5", "1h"])
def test_bad_periods_are_refused(text: str) -> None:
    """Unknown periods raise."""
    with pytest.raises(TimeframeError, match="period"):
        parse_period(text)


def test_trading_day_is_new_york_date() -> None:
    """01:00 UTC is still the previous evening in New York."""
    assert trading_day(datetime(2026, 3, 3, 1, 0, tzinfo=UTC)) == date(2026, 3, 2)


def test_trading_day_stays_right_minute_by_minute_across_dst_and_back_in_time() -> None:
    """The day it remembers between calls never leaks: every minute over the spring-forward
    and fall-back weekends (and a jump back in time) gets New York's own date."""
    ny = ZoneInfo("America/New_York")
    for first in (datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)):
        minutes = [first + timedelta(minutes=m) for m in range(0, 3 * 24 * 60, 7)]
        for ts in [*minutes, *reversed(minutes)]:
            assert trading_day(ts) == ts.astimezone(ny).date(), ts
