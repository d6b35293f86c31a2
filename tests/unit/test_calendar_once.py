"""``label_once``: a command that labels one moment (``status``) builds a few days of the
calendar, not the whole one since 1995, and labels every moment as the whole calendar does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.market import calendar as cal

DAYS = [
    date(2025, 7, 3),  # early close (13:00) before Independence Day
    date(2025, 7, 4),  # holiday
    date(2025, 11, 27),  # Thanksgiving
    date(2025, 11, 28),  # early close after it
    date(2025, 12, 24),  # early close
    date(2025, 12, 25),  # holiday
    date(2025, 1, 9),  # a one-off closure (national day of mourning)
    date(2025, 4, 18),  # Good Friday
    date(2024, 6, 19),  # Juneteenth
    date(2026, 3, 6),  # the Friday before the spring clock change (open 14:30 UTC)
    date(2026, 3, 9),  # the Monday after it (open 13:30 UTC)
    date(2026, 3, 8),  # the Sunday of the change
    date(2025, 10, 31),  # the Friday before the autumn clock change
    date(2025, 11, 3),  # the Monday after it
    date(2026, 1, 2),  # the first session of a year
    date(2026, 11, 28),  # a Saturday
]
TIMES = [
    time(0, 0),
    time(3, 59),
    time(4, 0),
    time(9, 29),
    time(9, 30),
    time(12, 59),
    time(13, 0),
    time(15, 59),
    time(16, 0),
    time(16, 59),
    time(17, 0),
    time(19, 59),
    time(20, 0),
    time(23, 59),
]


def _moments() -> list[datetime]:
    """New York wall-clock moments of the sample days, as UTC timestamps (as stored)."""
    return [
        datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(UTC) for day in DAYS for at in TIMES
    ]


@pytest.fixture
def no_whole_calendar():
    """The whole calendar not loaded in this process (as in a fresh ``status``); it is
    cleared again afterwards so that no test goes on with a calendar this one left."""
    cal.us_equity_calendar.cache_clear()
    yield
    cal.us_equity_calendar.cache_clear()


def test_labels_match_the_whole_calendar(no_whole_calendar) -> None:
    moments = _moments()
    whole = {ts: cal.us_equity_calendar().session_label(ts) for ts in moments}
    assert {label.value for label in whole.values()} == {"PRE", "OPEN", "AFTER", "CLOSED"}
    cal.us_equity_calendar.cache_clear()
    once = {ts: cal.label_once(ts) for ts in moments}
    assert cal.us_equity_calendar.cache_info().currsize == 0, "the few days, not the whole"
    assert once == whole


def test_status_labels_its_snapshot_without_the_whole_calendar(no_whole_calendar) -> None:
    from tui_trader.cli.reports import _session_label

    # a snapshot stamped at a daily bar's open, as ``status`` reads it back
    assert _session_label("2024-04-04 13:30:00") == "session OPEN"
    assert _session_label("2025-07-04 14:00:00") == "session CLOSED"
    assert cal.us_equity_calendar.cache_info().currsize == 0, "status built the 1995- calendar"


def test_days_near_the_ends_of_the_range_ask_the_whole_calendar(no_whole_calendar) -> None:
    early = datetime(1995, 1, 3, 15, tzinfo=UTC)
    assert cal.label_once(early) is cal.us_equity_calendar().session_label(early)
    cal.us_equity_calendar.cache_clear()
    day = date.today() + timedelta(days=400)  # past the whole calendar's end: no session there
    day += timedelta(days=(2 - day.weekday()) % 7)  # a Wednesday, 11:00 in New York
    late = datetime.combine(day, time(11), tzinfo=NEW_YORK)
    assert cal.label_once(late) is cal.SessionLabel.CLOSED
