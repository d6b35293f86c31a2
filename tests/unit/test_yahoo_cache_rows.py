"""The Yahoo cache's own rows are held to the rules a download is: a bad row is dropped, said.

Downloads are cleaned (``market.validate.clean_bars``) before they are cached, but the cache's
Parquet files were read back as they were: a file edited or damaged by hand with a close of -5,
a high under the low or a NaN close served that bar to the session (``paper --data yahoo``,
offline or not), which traded on it. Now the rows read back are checked as a download's are.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.cache import BarCache, Coverage
from tui_trader.market.calendar import us_equity_calendar
from tui_trader.market.yahoo import YahooOptions, open_yahoo_market

BAD = {
    "a close of -5": ({"close": -5.0, "low": -5.0, "adj_close": -5.0}, "non-positive close"),
    "a close of NaN": ({"close": math.nan}, "non-positive close"),
    "a high under the low": ({"high": 1.0}, "high is below open/close"),
}


def _cache_with(folder: Path, change: dict[str, Any]) -> None:
    """200 days of sound daily SPY bars in a cache at ``folder``, one near the end changed."""
    now = datetime.now(UTC)
    calendar = us_equity_calendar()
    day, stamps = (now - timedelta(days=200)).date(), []
    while day < now.date():
        if day.weekday() < 5:
            stamps.append(calendar.open_of(day))
        day += timedelta(days=1)
    rows = [
        {
            "timestamp": t,
            "symbol": "SPY",
            "open": 100.0 + i / 10,
            "high": 101.0 + i / 10,
            "low": 99.0 + i / 10,
            "close": 100.5 + i / 10,
            "volume": 1e6,
            "adj_close": 100.5 + i / 10,
        }
        for i, t in enumerate(stamps)
    ]
    rows[-3].update(change)
    frame = pl.DataFrame(rows).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))
    BarCache(folder).write("SPY", "1d", frame, Coverage(stamps[0], now, now))


@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_bad_cached_row_is_dropped_and_said(tmp_path: Path, bad: str):
    """Offline from the cache: the changed row is not served, and one line says so."""
    change, words = BAD[bad]
    _cache_with(tmp_path, change)
    notes: list[str] = []
    market = open_yahoo_market(
        ["SPY"],
        parse_interval("1d"),
        parse_period("60d"),
        iterations=50,
        options=YahooOptions(cache_dir=tmp_path, offline=True),
        report=notes.append,
    )
    served = [bar for bar in market.warmup()["SPY"]]
    while bars := market.next_bars():
        served.append(bars["SPY"])
    assert all(b.close > 0 and b.low <= b.close <= b.high for b in served)  # -5: served
    assert any("dropped 1 row(s)" in n and words in n for n in notes), notes
