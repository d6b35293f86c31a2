"""The US equity calendar: holidays, early closes, daylight saving, weekends and session labels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.market import calendar as cal
from tui_trader.market.calendar import CalendarError, SessionLabel


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A New York wall-clock time as an aware datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK)


def utc(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A UTC time."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize("day", [date(2025, 7, 4), date(2025, 12, 25), date(2025, 1, 1)])
def test_holidays_are_not_sessions(day: date) -> None:
    calendar = cal.us_equity_calendar()
    assert not calendar.is_session(day)
    assert cal.session_label(ny(day.year, day.month, day.day, 11)) is SessionLabel.CLOSED
    assert not cal.is_open(ny(day.year, day.month, day.day, 11))


def test_next_open_skips_a_holiday() -> None:
    # Thursday 2025-07-03 is an early close (13:00); Friday the 4th is a holiday.
    assert cal.next_open(ny(2025, 7, 3, 14)) == utc(2025, 7, 7, 13, 30)
    assert cal.next_open(ny(2025, 12, 24, 16)) == utc(2025, 12, 26, 14, 30)


def test_early_close_day_after_thanksgiving() -> None:
    session = cal.us_equity_calendar().session(date(2025, 11, 28))
    assert session is not None and session.early_close
    assert session.close == ny(2025, 11, 28, 13).astimezone(UTC)
    assert cal.next_close(ny(2025, 11, 28, 10)) == utc(2025, 11, 28, 18)
    assert cal.is_open(ny(2025, 11, 28, 12, 59))
    assert cal.session_label(ny(2025, 11, 28, 13, 30)) is SessionLabel.AFTER
    assert cal.session_label(ny(2025, 11, 28, 17, 30)) is SessionLabel.CLOSED
    assert cal.session_label(ny(2025, 11, 26, 17, 30)) is SessionLabel.AFTER


def test_daylight_saving_moves_the_open_in_utc() -> None:
    # US clocks sprang forward on Sunday 2025-03-09.
    assert cal.next_open(ny(2025, 3, 3, 8)) == utc(2025, 3, 3, 14, 30)
    assert cal.next_open(ny(2025, 3, 10, 8)) == utc(2025, 3, 10, 13, 30)
    assert cal.is_open(utc(2025, 3, 10, 13, 45))
    assert not cal.is_open(utc(2025, 3, 3, 13, 45))
    # ... and fell back on Sunday 2025-11-02.
    assert cal.next_close(ny(2025, 11, 3, 10)) == utc(2025, 11, 3, 21)


def test_weekend() -> None:
    saturday = ny(2025, 6, 14, 12)
    assert cal.session_label(saturday) is SessionLabel.CLOSED
    assert cal.next_open(saturday) == utc(2025, 6, 16, 13, 30)
    assert cal.next_close(saturday) == utc(2025, 6, 16, 20)
    assert cal.session_day(saturday) == date(2025, 6, 13)


@pytest.mark.parametrize(
    ("moment", "label"),
    [
        (ny(2025, 6, 12, 3, 59), SessionLabel.CLOSED),
        (ny(2025, 6, 12, 4, 0), SessionLabel.PRE),
        (ny(2025, 6, 12, 9, 29), SessionLabel.PRE),
        (ny(2025, 6, 12, 9, 30), SessionLabel.OPEN),
        (ny(2025, 6, 12, 15, 59), SessionLabel.OPEN),
        (ny(2025, 6, 12, 16, 0), SessionLabel.AFTER),
        (ny(2025, 6, 12, 19, 59), SessionLabel.AFTER),
        (ny(2025, 6, 12, 20, 0), SessionLabel.CLOSED),
    ],
)
def test_session_labels_through_a_day(moment: datetime, label: SessionLabel) -> None:
    assert cal.session_label(moment) is label
    assert cal.session_label(moment.astimezone(UTC)) is label


def test_session_day_runs_from_pre_market_to_the_next_pre_market() -> None:
    assert cal.session_day(ny(2025, 6, 12, 4)) == date(2025, 6, 12)
    assert cal.session_day(ny(2025, 6, 12, 23)) == date(2025, 6, 12)
    assert cal.session_day(ny(2025, 6, 13, 3, 59)) == date(2025, 6, 12)
    assert cal.session_day(ny(2025, 7, 4, 12)) == date(2025, 7, 3)


def test_next_close_while_open_is_today() -> None:
    assert cal.next_close(ny(2025, 6, 12, 10)) == utc(2025, 6, 12, 20)
    assert cal.next_open(ny(2025, 6, 12, 10)) == utc(2025, 6, 13, 13, 30)


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(CalendarError, match="no time zone"):
        cal.session_label(datetime(2025, 6, 12, 10))


def test_sessions_back_counts_trading_days() -> None:
    sessions = cal.us_equity_calendar().sessions_back(date(2025, 7, 7), 3)
    assert [s.day for s in sessions] == [date(2025, 7, 2), date(2025, 7, 3), date(2025, 7, 7)]


def test_loading_the_calendar_prints_no_warning() -> None:
    """Building the calendar warns about nothing: on pandas 2.x ``Series.dt.to_pydatetime()``
    printed a FutureWarning on the terminal of every ``live`` session."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calendar = cal.ExchangeCalendar.load()
    assert calendar.first_day.year <= 2000
