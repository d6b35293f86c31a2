"""Bar validation: replay files are refused whole, downloads are cleaned with a count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tui_trader.market import MarketDataError
from tui_trader.market.validate import clean_bars, normalize_bars

T0 = datetime(2025, 6, 2, 13, 30, tzinfo=UTC)


def bars(rows: list[tuple[int, str, float, float, float, float, float]]) -> pl.DataFrame:
    """A bar table from (day offset, symbol, o, h, l, c, v) rows."""
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(days=r[0]) for r in rows],
            "symbol": [r[1] for r in rows],
            "open": [float(r[2]) for r in rows],
            "high": [float(r[3]) for r in rows],
            "low": [float(r[4]) for r in rows],
            "close": [float(r[5]) for r in rows],
            "volume": [float(r[6]) for r in rows],
        }
    )


GOOD = [(0, "SPY", 10, 11, 9, 10.5, 100), (1, "SPY", 10.5, 12, 10, 11, 200)]


def test_good_table_passes_both_modes() -> None:
    assert normalize_bars(bars(GOOD), "x").height == 2
    result = clean_bars(bars(GOOD), "x")
    assert result.frame.height == 2 and result.problems == [] and result.dropped == 0


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ((2, "SPY", -1, 12, 10, 11, 1), "non-positive open"),
        ((2, "SPY", 10, 12, 10, float("nan"), 1), "non-positive close"),
        ((2, "SPY", 10, 10.5, 9, 11, 1), "high is below"),
        ((2, "SPY", 10, 12, 10.5, 11, 1), "low above"),
        ((2, "SPY", 10, 12, 9, 11, -5), "negative volume"),
    ],
)
def test_bad_row_is_refused_in_a_file_and_dropped_from_a_download(row, words) -> None:
    frame = bars([*GOOD, row])
    with pytest.raises(MarketDataError, match=words):
        normalize_bars(frame, "bars.csv")
    result = clean_bars(frame, "yahoo SPY 1d")
    assert result.frame.height == 2
    assert result.dropped == 1
    assert len(result.problems) == 1
    assert result.problems[0].startswith("yahoo SPY 1d: dropped 1 row(s)")
    assert words in result.problems[0]


def test_duplicates_and_order_are_fixed_in_a_download_and_refused_in_a_file() -> None:
    frame = bars([GOOD[1], GOOD[0], (1, "SPY", 10.5, 13, 10, 12, 300)])
    with pytest.raises(MarketDataError, match=r"not sorted|duplicated"):
        normalize_bars(frame, "bars.csv")
    result = clean_bars(frame, "dl")
    assert result.frame.get_column("timestamp").is_sorted()
    assert result.frame.height == 2
    assert result.frame.get_column("close").to_list() == [10.5, 12.0]  # the last row wins
    assert result.problems == ["dl: dropped 1 row(s) with a duplicated timestamp"]


def test_extra_columns_are_kept_when_asked() -> None:
    frame = bars(GOOD).with_columns(adj_close=pl.col("close") * 0.9)
    assert "adj_close" in clean_bars(frame, "dl", keep=("adj_close",)).frame.columns


def test_missing_column_raises_even_when_cleaning() -> None:
    with pytest.raises(MarketDataError, match="missing column"):
        clean_bars(bars(GOOD).drop("volume"), "dl")
