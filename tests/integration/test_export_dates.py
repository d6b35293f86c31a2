"""``data export --start/--end`` take the years bars may have; a far date is one line, exit 2.

``--end 9999-12-31`` (the largest date, typed as "everything") crashed the export with
``OverflowError`` (exit 1, crash log): the day after it is past Python's dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.market.cache import BarCache


@pytest.fixture
def cached(place: Path) -> Path:
    """A cache holding 30 daily SPY bars of January 2024."""
    n = 30
    stamps = [datetime(2024, 1, 2, 14, 30, tzinfo=UTC) + timedelta(days=i) for i in range(n)]
    frame = pl.DataFrame(
        {
            "timestamp": stamps,
            "symbol": ["SPY"] * n,
            "open": [10.0] * n,
            "high": [11.0] * n,
            "low": [9.0] * n,
            "close": [10.0] * n,
            "adj_close": [10.0] * n,
            "volume": [100.0] * n,
        }
    )
    BarCache(place / "cache").merge("SPY", "1d", frame, stamps[0], stamps[-1])
    return place / "cache"


@pytest.mark.parametrize(
    ("option", "day"),
    [("--end", "9999-12-31"), ("--start", "0001-01-01"), ("--end", "2200-01-01")],
)
def test_a_date_outside_the_bar_years_is_refused(
    cached: Path, place: Path, capsys: pytest.CaptureFixture[str], option: str, day: str
) -> None:
    argv = ["data", "export", "--symbol", "SPY", "--out", "spy.csv", "--cache-dir", str(cached)]
    code, out, err, _ = run_main([*argv, option, day], capsys)
    assert_one_line_exit_2(code, out, err, f"{day} is outside the years bars may have", place)
    assert not (place / "spy.csv").exists()


def test_the_last_day_bars_may_have_exports_everything(
    cached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["data", "export", "--symbol", "SPY", "--out", "spy.csv", "--cache-dir", str(cached)]
    code, out, _err, _ = run_main([*argv, "--end", "2199-12-31"], capsys)
    assert code == 0 and "wrote 30 SPY 1d bars" in out
