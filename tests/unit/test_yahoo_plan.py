"""What the Yahoo adapter asks for: intervals, history limits, windows, missing ranges, chunks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tui_trader.core.timeframes import NEW_YORK, parse_interval
from tui_trader.market import MarketDataError
from tui_trader.market.cache import Coverage
from tui_trader.market.calendar import us_equity_calendar
from tui_trader.market.yahoo_plan import (
    bar_completed_between,
    check_history_limit,
    check_yahoo_interval,
    missing_ranges,
    request_chunks,
    window_start,
)

CAL = us_equity_calendar()
DAILY = parse_interval("1d")
FIVE = parse_interval("5m")
ONE = parse_interval("1m")


def ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """New York wall-clock time."""
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK)


@pytest.mark.parametrize("text", ["3m", "10m", "13m", "65m"])
def test_intervals_yahoo_does_not_serve_are_refused(text: str) -> None:
    with pytest.raises(MarketDataError, match=f"no {text} bars"):
        check_yahoo_interval(parse_interval(text))


def test_history_limits_are_explained() -> None:
    now = ny(2025, 6, 13, 12)
    check_history_limit(ONE, now - timedelta(days=29), now)
    check_history_limit(DAILY, now - timedelta(days=9000), now)
    with pytest.raises(MarketDataError, match=r"last 30 days only, 7 days per request"):
        check_history_limit(ONE, now - timedelta(days=31), now)
    with pytest.raises(MarketDataError, match=r"5m bars for the last 60 days"):
        check_history_limit(FIVE, now - timedelta(days=61), now)


def test_daily_window_counts_sessions_back_from_the_last_close() -> None:
    # Friday 2025-07-11 after the close: 5 sessions back skips the 4 July holiday.
    start = window_start(DAILY, 5, ny(2025, 7, 11, 18), CAL)
    assert start == ny(2025, 7, 7)
    # During Monday's session, Monday's bar is not complete: the window ends on Friday.
    assert window_start(DAILY, 1, ny(2025, 7, 14, 11), CAL) == ny(2025, 7, 11)


def test_intraday_window_starts_at_an_open() -> None:
    # 78 five-minute bars make one session.
    assert window_start(FIVE, 78 * 2, ny(2025, 7, 11, 18), CAL) == ny(2025, 7, 10, 9, 30)


def test_nothing_cached_means_the_whole_range() -> None:
    start, now = ny(2025, 1, 2), ny(2025, 2, 14, 18)
    assert missing_ranges(None, None, start, now, DAILY, CAL) == [(start, now)]


def test_up_to_date_cache_needs_nothing_even_over_a_weekend() -> None:
    fetched = ny(2025, 2, 14, 17)  # Friday after the close
    covered = Coverage(ny(2025, 1, 2), fetched, fetched)
    last_bar = ny(2025, 2, 14, 9, 30)
    monday_early = ny(2025, 2, 17, 8)  # Presidents' Day holiday, then Tuesday
    assert missing_ranges(covered, last_bar, ny(2025, 1, 2), monday_early, DAILY, CAL) == []
    tuesday_noon = ny(2025, 2, 18, 12)
    assert missing_ranges(covered, last_bar, ny(2025, 1, 2), tuesday_noon, DAILY, CAL) == []
    tuesday_evening = ny(2025, 2, 18, 16, 5)
    assert missing_ranges(covered, last_bar, ny(2025, 1, 2), tuesday_evening, DAILY, CAL) == [
        (ny(2025, 2, 15), tuesday_evening)
    ]


def test_head_and_tail_both_missing() -> None:
    covered = Coverage(ny(2025, 2, 3), ny(2025, 2, 14, 17), ny(2025, 2, 14, 17))
    now = ny(2025, 3, 7, 17)
    ranges = missing_ranges(covered, ny(2025, 2, 14, 9, 30), ny(2025, 1, 2), now, DAILY, CAL)
    assert ranges == [(ny(2025, 1, 2), ny(2025, 2, 3)), (ny(2025, 2, 15), now)]


def test_intraday_tail_waits_for_the_next_bar_to_complete() -> None:
    since = ny(2025, 6, 12, 10, 2)
    assert not bar_completed_between(since, ny(2025, 6, 12, 10, 4), FIVE, CAL)
    assert bar_completed_between(since, ny(2025, 6, 12, 10, 5), FIVE, CAL)
    after_close = ny(2025, 6, 12, 16, 30)
    assert not bar_completed_between(after_close, ny(2025, 6, 13, 9, 34), FIVE, CAL)
    assert bar_completed_between(after_close, ny(2025, 6, 13, 9, 35), FIVE, CAL)


def test_one_minute_ranges_are_cut_into_seven_day_requests() -> None:
    start = datetime(2025, 6, 1, tzinfo=UTC)
    chunks = request_chunks(start, start + timedelta(days=20), ONE)
    assert [(b - a).days for a, b in chunks] == [7, 7, 6]
    assert chunks[0][0] == start and chunks[-1][1] == start + timedelta(days=20)
    assert request_chunks(start, start + timedelta(days=50), FIVE) == [
        (start, start + timedelta(days=50))
    ]


def test_calendar_day_helpers_used_by_the_plan() -> None:
    assert CAL.last_completed(ny(2025, 7, 4, 12)).day == date(2025, 7, 3)  # type: ignore[union-attr]
